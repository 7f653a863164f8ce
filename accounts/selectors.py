from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from .errors import UserNotFound
from .models import AuthSession, User


def user_get(*, user_id: str | UUID) -> User:
    """An active user by id; a malformed or unknown id is USER_NOT_FOUND."""
    try:
        return User.objects.select_related("x_account").get(pk=UUID(str(user_id)), is_active=True)
    except (ValueError, User.DoesNotExist) as exc:
        raise UserNotFound() from exc


def sessions_for_user(*, user: User) -> QuerySet[AuthSession]:
    """The user's live sign-ins (not ended, refresh token not expired), most recently used first."""
    return AuthSession.objects.filter(user=user, ended_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-last_used_at", "-created_at"
    )
