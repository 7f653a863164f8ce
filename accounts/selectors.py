from uuid import UUID

from .errors import UserNotFound
from .models import User


def user_get(*, user_id: str | UUID) -> User:
    """An active user by id; a malformed or unknown id is USER_NOT_FOUND."""
    try:
        return User.objects.select_related("x_account").get(pk=UUID(str(user_id)), is_active=True)
    except (ValueError, User.DoesNotExist) as exc:
        raise UserNotFound() from exc
