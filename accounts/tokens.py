"""Sign-in sessions and their JWTs.

Every sign-in (registration, password login, X, the fresh pair after a password change) starts a
*family*: an `AuthSession` row whose id every token of it carries in the `fid` claim (with the user
id and a digest of the password hash, `pwd`). A refresh rotates the refresh token inside its family.
Presenting an already-rotated token within `JWT_REFRESH_GRACE_SECONDS` answers the same successor
pair again (signed anew from the recorded jti and issue time: the same claims sign the same
string); after that, it is taken as theft and ends the whole family. Ending a family (logout,
logout everywhere, removing it from the session list, a password change, reuse) puts it on the
revocation list in Redis (`accounts.revocation`), so its access tokens are refused at their next use
without a database query. Every change to a family happens under its row lock.
"""

import ipaddress
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from thisthat.cache import CACHE_ERRORS, cache_or, cache_unavailable
from thisthat.errors import ServiceUnavailable, TokenInvalid
from thisthat.http import client_address
from thisthat.jobs import JobSummary
from thisthat.throttling import OUTAGE_RETRY_AFTER

from . import revocation
from .errors import AccountDisabled, InvalidCredentials, RefreshTokenReused, SessionEnded, SessionNotFound
from .models import AuthSession, SessionEndReason, SessionRefreshToken, User

logger = logging.getLogger(__name__)

FAMILY_CLAIM = "fid"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str


# --- signing ---------------------------------------------------------------------------------
def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _signed_pair(*, user: User, family_id: UUID, jti: UUID, issued_at: datetime) -> TokenPair:
    """The pair of refresh token `jti` issued at `issued_at`. Built from these inputs only (HS256
    and a fixed claim order are deterministic), so signing it again yields the same two strings."""
    iat = int(issued_at.timestamp())
    common = {
        api_settings.USER_ID_CLAIM: str(user.pk),
        api_settings.REVOKE_TOKEN_CLAIM: get_md5_hash_password(user.password),
        FAMILY_CLAIM: str(family_id),
    }

    def encode(token_type: str, lifetime: timedelta, token_id: UUID) -> str:
        claims = {
            api_settings.TOKEN_TYPE_CLAIM: token_type,
            "exp": iat + int(lifetime.total_seconds()),
            "iat": iat,
            api_settings.JTI_CLAIM: token_id.hex,
            **common,
        }
        return token_backend.encode(claims)

    return TokenPair(
        access_token=encode("access", api_settings.ACCESS_TOKEN_LIFETIME, uuid.uuid5(jti, "access")),
        refresh_token=encode("refresh", api_settings.REFRESH_TOKEN_LIFETIME, jti),
    )


def _refresh_record_create(*, session: AuthSession, issued_at: datetime) -> SessionRefreshToken:
    return SessionRefreshToken.objects.create(
        jti=uuid.uuid4(),
        session=session,
        issued_at=issued_at,
        expires_at=issued_at + api_settings.REFRESH_TOKEN_LIFETIME,
    )


def _use_recorded(family_id: UUID) -> None:
    """`last_used_at` was just written: access tokens of the family need not write it for a minute.
    Set before the commit (a rollback then costs one skipped write, nothing more)."""
    cache_or(lambda: revocation.use_recorded(family_id), fallback=lambda: None, what="session last-used mark")


# --- starting a sign-in --------------------------------------------------------------------------
def _client_ip(request: HttpRequest | None) -> str | None:
    try:
        return str(ipaddress.ip_address(client_address(request))) if request is not None else None
    except ValueError:
        return None


@transaction.atomic
def token_pair_issue(*, user: User, request: HttpRequest | None = None) -> TokenPair:
    """Start a sign-in: a new session (token family) for `user`, and its first pair. The one entry
    point for every sign-in — registration, password login, X, the new pair after a password
    change. `request` gives the user agent and client address the session list shows.

    Under the user's row lock the account must still be as the caller checked it: a deactivation
    or a password change that committed since ended every session but this one, and the bearer
    check, which loads no user row, would let its access tokens through."""
    now = _whole_seconds(timezone.now())
    with transaction.atomic():
        current = User.objects.select_for_update(no_key=True).only("is_active", "password").get(pk=user.pk)
        if not current.is_active:
            raise AccountDisabled()
        if current.password != user.password:
            raise InvalidCredentials()
        session = AuthSession.objects.create(
            user=user,
            created_at=now,
            last_used_at=now,
            expires_at=now + api_settings.REFRESH_TOKEN_LIFETIME,
            user_agent=request.headers.get("User-Agent", "")[:512] if request is not None else "",
            ip_address=_client_ip(request),
        )
        first = _refresh_record_create(session=session, issued_at=now)
    _use_recorded(session.pk)
    return _signed_pair(user=user, family_id=session.pk, jti=first.jti, issued_at=now)


# --- refresh tokens: rotation and logout -----------------------------------------------------------
@dataclass(frozen=True)
class _RefreshClaims:
    family_id: UUID
    jti: UUID
    user_id: str
    password_digest: str | None


def _refresh_claims(raw: str) -> _RefreshClaims:
    try:
        token = RefreshToken(raw)  # signature, expiry and type
        return _RefreshClaims(
            family_id=UUID(str(token[FAMILY_CLAIM])),
            jti=UUID(str(token[api_settings.JTI_CLAIM])),
            user_id=str(token[api_settings.USER_ID_CLAIM]),
            password_digest=token.get(api_settings.REVOKE_TOKEN_CLAIM),
        )
    except (TokenError, KeyError, ValueError) as exc:
        raise TokenInvalid() from exc


def _family_for_update(claims: _RefreshClaims) -> tuple[AuthSession, SessionRefreshToken]:
    """The token's live family, locked, and the token's record in it. Parallel presenters of one
    family queue here; each then sees what the one before it committed."""
    session = (
        AuthSession.objects.select_for_update(of=("self",)).select_related("user").filter(pk=claims.family_id).first()
    )
    if session is None or str(session.user_id) != claims.user_id:
        raise TokenInvalid()
    if session.ended_at is not None:
        raise SessionEnded()
    user = session.user
    if not user.is_active or claims.password_digest != get_md5_hash_password(user.password):
        raise TokenInvalid()
    record = SessionRefreshToken.objects.filter(session=session, jti=claims.jti).first()
    if record is None:
        raise TokenInvalid()
    return session, record


def _families_end(session_ids: list[UUID], *, reason: SessionEndReason) -> None:
    """End these families in the caller's transaction. They go on the revocation list before the
    commit; if the cache cannot take them, ServiceUnavailable rolls the whole change back, so a
    family is never ended in the database while its access tokens still pass."""
    if not session_ids:
        return
    AuthSession.objects.filter(pk__in=session_ids, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )
    try:
        revocation.families_revoke(session_ids)
    except CACHE_ERRORS as exc:
        cache_unavailable("token revocation list: ending sessions refused", exc)
        raise ServiceUnavailable(retry_after=OUTAGE_RETRY_AFTER) from exc


def token_pair_rotate(*, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for the next pair of its family.

    The family's current token is rotated. One rotated at most `JWT_REFRESH_GRACE_SECONDS` ago
    answers the same successor pair again (tabs refreshing together, a retried request). One rotated
    earlier is a reuse: the family ends (committed) and RefreshTokenReused is raised.
    """
    claims = _refresh_claims(refresh_token)
    with transaction.atomic():
        session, record = _family_for_update(claims)
        if record.rotated_at is None:
            now = _whole_seconds(timezone.now())
            successor = _refresh_record_create(session=session, issued_at=now)
            record.rotated_at, record.successor_jti = now, successor.jti
            record.save(update_fields=["rotated_at", "successor_jti"])
            AuthSession.objects.filter(pk=session.pk).update(last_used_at=now, expires_at=successor.expires_at)
            _use_recorded(session.pk)
            return _signed_pair(user=session.user, family_id=session.pk, jti=successor.jti, issued_at=now)
        if timezone.now() - record.rotated_at <= timedelta(seconds=settings.JWT_REFRESH_GRACE_SECONDS):
            return _signed_pair(
                user=session.user, family_id=session.pk, jti=record.successor_jti, issued_at=record.rotated_at
            )
        logger.warning(
            "refresh token reused after its grace window: family revoked",
            extra={"user_id": str(session.user_id), "session_id": str(session.pk)},
        )
        _families_end([session.pk], reason=SessionEndReason.REFRESH_TOKEN_REUSED)
    raise RefreshTokenReused()


def token_revoke(*, refresh_token: str) -> None:
    """Log out: end the family of this refresh token (any of its tokens proves possession)."""
    claims = _refresh_claims(refresh_token)
    with transaction.atomic():
        session, _ = _family_for_update(claims)
        _families_end([session.pk], reason=SessionEndReason.LOGOUT)


@transaction.atomic
def tokens_revoke_all(*, user: User, reason: SessionEndReason) -> None:
    """End every live family of the user (logout everywhere, a password change or reset)."""
    session_ids = list(
        AuthSession.objects.select_for_update()
        .filter(user=user, ended_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("pk")  # one lock order, whoever ends them
        .values_list("pk", flat=True)
    )
    _families_end(session_ids, reason=reason)


@transaction.atomic
def session_end(*, user: User, session_id: str | UUID) -> None:
    """End one of the user's live sessions (from the session list); someone else's, an ended one or
    a malformed id is SESSION_NOT_FOUND."""
    try:
        session_id = UUID(str(session_id))
    except ValueError as exc:
        raise SessionNotFound() from exc
    session = (
        AuthSession.objects.select_for_update()
        .filter(pk=session_id, user=user, ended_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if session is None:
        raise SessionNotFound()
    _families_end([session.pk], reason=SessionEndReason.REVOKED)


# --- access tokens -------------------------------------------------------------------------------
def _family_live(family_id: UUID) -> bool:
    return AuthSession.objects.filter(pk=family_id, ended_at__isnull=True).exists()


def _revocation_list_rebuild() -> None:
    """Put every family ended within a mark's lifetime back on the list, then trust it again."""
    if not revocation.rebuild_claim():
        return
    since = timezone.now() - timedelta(seconds=revocation.mark_lifetime())
    ended = list(AuthSession.objects.filter(ended_at__gte=since).values_list("pk", flat=True))
    revocation.list_complete_mark(ended)
    logger.info("token revocation list rebuilt", extra={"families": len(ended)})


def access_family_check(*, family_id: UUID) -> None:
    """Refuse an access token whose family has ended. Normally one Redis round trip and no query.

    The database answers instead while the list is incomplete (then rebuilt) or Redis is down. With
    Redis down a live family goes on (one query more) and an ended one is refused with 503
    SERVICE_UNAVAILABLE: the check fails closed, never letting a revoked token through.
    """
    try:
        status = revocation.family_status(family_id)
    except CACHE_ERRORS as exc:
        cache_unavailable("token revocation list: the database answers", exc)
        if not _family_live(family_id):
            raise ServiceUnavailable(retry_after=OUTAGE_RETRY_AFTER) from exc
        return
    if status.revoked:
        raise SessionEnded()
    if not status.list_complete:
        if not _family_live(family_id):
            raise SessionEnded()
        try:
            _revocation_list_rebuild()
        except CACHE_ERRORS as exc:
            cache_unavailable("token revocation list: rebuild", exc)
    if status.use_due:
        AuthSession.objects.filter(pk=family_id).update(last_used_at=timezone.now())


# --- housekeeping --------------------------------------------------------------------------------
@dataclass
class TokenPurgeSummary(JobSummary):
    sessions: int = 0
    refresh_tokens: int = 0


def refresh_tokens_purge_expired() -> TokenPurgeSummary:
    """Delete expired sessions (with their tokens) and the expired tokens of live ones. Idempotent."""
    summary, now = TokenPurgeSummary(), timezone.now()
    with transaction.atomic():
        _, by_model = AuthSession.objects.filter(expires_at__lt=now).delete()
        summary.sessions = by_model.get(AuthSession._meta.label, 0)
        summary.refresh_tokens = by_model.get(SessionRefreshToken._meta.label, 0)
        summary.refresh_tokens += SessionRefreshToken.objects.filter(expires_at__lt=now).delete()[0]
    return summary.finished(logger, "expired sessions purged")
