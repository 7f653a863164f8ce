from uuid import UUID

from django.db import connection
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .dependents import profile_rank_sql
from .errors import UserNotFound
from .models import AuthSession, User, XAccount


def profile_rank_annotations() -> dict[str, RawSQL]:
    """The all-time ranks as annotations of a user queryset (null until ranked)."""
    user = connection.ops.quote_name(User._meta.db_table)
    return {
        name: RawSQL(sql.format(user=user), (), output_field=IntegerField()) for name, sql in profile_rank_sql().items()
    }


def _profile_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(f"u.{quote(field.column)}" for field in User._meta.concrete_fields)
    ranks = ", ".join(f"({sql.format(user='u')}) AS {name}" for name, sql in profile_rank_sql().items())
    return (
        f"SELECT {columns}, x.{quote('id')} AS x_account_pk, {ranks} FROM {quote(User._meta.db_table)} u "
        f"LEFT JOIN {quote(XAccount._meta.db_table)} x ON x.{quote('user_id')} = u.{quote('id')} "
        f"WHERE u.{quote('id')} = %s"
    )


def profile_get(*, user_id: UUID) -> User:
    """One user as the profile shows it (any user; DoesNotExist if none), with its ranks, in one
    hand-written statement. Every authenticated request that loads its user reads it this way: the
    ORM's select_related and annotations cost twice the query itself in Python (BENCHMARKS.md,
    issue 12). A user with no X account gets that answer cached; a linked one is loaded on first use."""
    user_pk = User._meta.pk.get_db_prep_value(user_id, connection)
    user = next(iter(User.objects.raw(_profile_sql(), [user_pk])), None)
    if user is None:
        raise User.DoesNotExist
    if user.x_account_pk is None:
        User.x_account.related.set_cached_value(user, None)
    return user


def user_get(*, user_id: str | UUID) -> User:
    """An active user by id, as the profile shows it; a malformed or unknown id is USER_NOT_FOUND."""
    try:
        user = profile_get(user_id=UUID(str(user_id)))
    except (ValueError, User.DoesNotExist) as exc:
        raise UserNotFound() from exc
    if not user.is_active:
        raise UserNotFound()
    return user


def sessions_for_user(*, user: User) -> QuerySet[AuthSession]:
    """The user's live sign-ins (not ended, refresh token not expired), most recently used first."""
    return AuthSession.objects.filter(user=user, ended_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-last_used_at", "-created_at"
    )
