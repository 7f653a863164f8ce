"""Sign in with X: the flow's state, and finding, creating and linking accounts.

A flow is three requests that any web process may answer: the start puts `state` and the PKCE
verifier in the shared cache (10 minutes), the callback takes them out (once), talks to X and leaves
a one-time code in the cache (60 s), and the exchange takes that out (once) for our tokens. Each
take is a get followed by a delete that only one caller can win, so a replayed or raced callback or
exchange is refused. Each entry also carries its deadline, checked here, so expiry does not depend
on the cache's own clock.

Who may finish a flow (RFC 6749 §10.12, login CSRF): a sign-in flow only in the browser that
started it (the start leaves a random browser id in a cookie, the flow keeps its digest); a link
flow only with the linking user's own token (`x_link_confirm`), since it is started by an API call
that cannot mark a browser, and a victim's browser must never finish an attacker's link.
"""

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit
from uuid import UUID

from authlib.common.security import generate_token
from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.core.cache import cache
from django.db import IntegrityError, transaction

from activity.models import ActivityKind
from activity.services import activity_record
from thisthat.cache import CACHE_ERRORS, cache_unavailable
from thisthat.errors import ServiceUnavailable
from thisthat.http import Client
from thisthat.throttling import OUTAGE_RETRY_AFTER

from . import x_oauth
from .errors import (
    AccountDisabled,
    InvalidRedirect,
    LastSignInMethod,
    UsernameTaken,
    XAccessDenied,
    XAccountTaken,
    XAlreadyLinked,
    XCodeInvalid,
    XExchangeFailed,
    XNotLinked,
    XStateInvalid,
)
from .models import User, XAccount
from .services import referral_code_check, user_create
from .x_oauth import XIdentity

logger = logging.getLogger(__name__)

FLOW_TTL_SECONDS = 10 * 60
EXCHANGE_CODE_TTL_SECONDS = 60
VERIFIER_LENGTH = 64  # RFC 7636: 43 to 128 characters
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")  # what our states and exchange codes look like
_REDIRECT_MAX = 512
_USERNAME_MIN, _USERNAME_MAX = 3, 30
_RANDOM_SUFFIX_TRIES = 5


# --- Where the browser goes back to ------------------------------------------------------------
def redirect_path_clean(raw: str | None) -> str:
    """`raw` if it is a path on the frontend ("/markets?tab=hot"), "/" if absent; anything that could
    leave the frontend (a scheme, a host, "//host", a backslash, control characters), as written or
    once percent-decoded (for a frontend that decodes it again), is refused."""
    if not raw:
        return "/"
    if (
        len(raw) > _REDIRECT_MAX
        or " " in raw
        or not (_stays_on_the_frontend(raw) and _stays_on_the_frontend(unquote(raw)))
    ):
        raise InvalidRedirect()
    return raw


def _stays_on_the_frontend(path: str) -> bool:
    parts = urlsplit(path)
    return (
        path.startswith("/")
        and not path.startswith("//")
        and "\\" not in path
        and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path)
        and not parts.scheme
        and not parts.netloc
    )


def frontend_url(path: str, **params: str) -> str:
    """FRONTEND_URL + `path`, with `params` set in its query (replacing any of the same name)."""
    parts = urlsplit(path)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key not in params]
    query += list(params.items())
    return settings.FRONTEND_URL + urlunsplit(("", "", parts.path, urlencode(query), ""))


# --- One-time entries in the shared cache ---------------------------------------------------------
def _put(key: str, value: dict[str, Any], *, ttl: int) -> None:
    try:
        cache.set(key, {**value, "expires_at": time.time() + ttl}, ttl)
    except CACHE_ERRORS as exc:
        cache_unavailable(f"x sign-in: store {key.split(':')[1]}", exc)
        raise ServiceUnavailable(retry_after=OUTAGE_RETRY_AFTER) from exc


def _take(key: str) -> dict[str, Any] | None:
    """The entry under `key`, removed; None if absent, expired, or taken by someone else first."""
    try:
        value = cache.get(key)
        if value is None or not cache.delete(key):
            return None
    except CACHE_ERRORS as exc:
        cache_unavailable(f"x sign-in: take {key.split(':')[1]}", exc)
        raise ServiceUnavailable(retry_after=OUTAGE_RETRY_AFTER) from exc
    return value if value["expires_at"] > time.time() else None


@dataclass(frozen=True)
class XFlow:
    verifier: str
    redirect: str
    browser_digest: str = ""  # a sign-in flow: the browser that started it
    referral_code: str = ""
    link_user_id: str | None = None  # a link flow: the signed-in user who started it


def browser_id_valid(value: str | None) -> bool:
    return bool(value) and _TOKEN.fullmatch(value) is not None


def browser_id_new() -> str:
    return secrets.token_urlsafe(32)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def x_flow_start(
    *, redirect: str | None, browser_id: str | None = None, referral_code: str = "", link_user: User | None = None
) -> str:
    """Open a flow and return X's authorization URL to send the browser to: a sign-in flow for the
    browser `browser_id`, or a link flow for `link_user`."""
    x_oauth.ensure_configured()
    if link_user is not None and XAccount.objects.filter(user_id=link_user.pk).exists():
        raise XAlreadyLinked()
    if link_user is None and not browser_id_valid(browser_id):
        raise ValueError("a sign-in flow needs the browser id it is bound to")
    flow = XFlow(
        verifier=generate_token(VERIFIER_LENGTH),
        redirect=redirect_path_clean(redirect),
        browser_digest=_digest(browser_id) if link_user is None else "",
        referral_code=referral_code.strip().upper() if link_user is None else "",
        link_user_id=str(link_user.pk) if link_user is not None else None,
    )
    if flow.referral_code:
        referral_code_check(code=flow.referral_code)
    state = secrets.token_urlsafe(32)
    _put(f"xauth:state:{state}", asdict(flow), ttl=FLOW_TTL_SECONDS)
    return x_oauth.authorization_url(state=state, verifier=flow.verifier)


def x_flow_take(*, state: str | None, browser_id: str | None) -> XFlow:
    """The flow this callback belongs to, consumed: a state works once, for 10 minutes, and a
    sign-in flow only in the browser that started it."""
    x_oauth.ensure_configured()
    entry = _take(f"xauth:state:{state}") if state and _TOKEN.fullmatch(state) else None
    if entry is None:
        raise XStateInvalid()
    entry.pop("expires_at")
    flow = XFlow(**entry)
    if flow.browser_digest and not (
        browser_id_valid(browser_id) and hmac.compare_digest(flow.browser_digest, _digest(browser_id))
    ):
        logger.warning("x callback from another browser than the one that started the flow")
        raise XStateInvalid()
    return flow


def x_flow_complete(
    *, flow: XFlow, code: str | None, error: str | None, client: Client | None = None
) -> dict[str, str]:
    """Finish a flow from X's answer; returns the query parameters for the frontend redirect: a
    one-time `code` for `POST /auth/x/exchange` after a sign-in, a one-time `linkCode` for
    `POST /auth/x/link/confirm` after a link flow."""
    if error:
        raise XAccessDenied() if error == "access_denied" else XExchangeFailed()
    if not code:
        raise XExchangeFailed()
    identity = x_oauth.identity_fetch(code=code, verifier=flow.verifier)  # no transaction open while X answers
    if flow.link_user_id is not None:
        _x_link_check(user_id=UUID(flow.link_user_id), identity=identity)  # refuse early; confirm checks again
        link_code = secrets.token_urlsafe(32)
        entry = {"user_id": flow.link_user_id, "identity": asdict(identity)}
        _put(f"xauth:link:{link_code}", entry, ttl=EXCHANGE_CODE_TTL_SECONDS)
        return {"linkCode": link_code}
    user, created = x_sign_in(identity=identity, referral_code=flow.referral_code, client=client)
    exchange_code = secrets.token_urlsafe(32)
    _put(f"xauth:code:{exchange_code}", {"user_id": str(user.pk), "created": created}, ttl=EXCHANGE_CODE_TTL_SECONDS)
    return {"code": exchange_code}


def x_link_confirm(*, user: User, code: str) -> User:
    """Link the X account a link flow's callback read to `user`, who must be the one who started it."""
    entry = _take(f"xauth:link:{code}") if _TOKEN.fullmatch(code) else None
    if entry is None or entry["user_id"] != str(user.pk):
        raise XCodeInvalid()
    x_account_link(user_id=user.pk, identity=XIdentity(**entry["identity"]))
    return User.objects.select_related("x_account").get(pk=user.pk)


def x_exchange(*, code: str, client: Client | None = None) -> tuple[User, bool]:
    """The account a one-time exchange code was issued for, and whether the flow created it; the
    sign-in is recorded as a login."""
    entry = _take(f"xauth:code:{code}") if _TOKEN.fullmatch(code) else None
    user = User.objects.filter(pk=entry["user_id"]).select_related("x_account").first() if entry else None
    if user is None:
        raise XCodeInvalid()
    if not user.is_active:
        raise AccountDisabled()
    with transaction.atomic():
        update_last_login(None, user)
        activity_record(kind=ActivityKind.LOGIN, user_id=user.pk, client=client)
    return user, entry["created"]


# --- Accounts ---------------------------------------------------------------------------------------
def _x_account_fields(identity: XIdentity) -> dict[str, str]:
    return {"username": identity.username, "name": identity.name, "avatar_url": identity.avatar_url}


def _x_account_refresh(account: XAccount, identity: XIdentity) -> None:
    fields = _x_account_fields(identity)
    if any(getattr(account, name) != value for name, value in fields.items()):
        XAccount.objects.filter(pk=account.pk).update(**fields)


@transaction.atomic
def x_sign_in(*, identity: XIdentity, referral_code: str = "", client: Client | None = None) -> tuple[User, bool]:
    """The account of this X user, created (with its signup bonus and any referral bonus, through
    registration's own service) on the first sign-in. Two first sign-ins at once create one account:
    the loser of the unique X id finds the winner's."""
    account = XAccount.objects.select_related("user").filter(x_id=identity.id).first()
    if account is None:
        for username in _username_candidates(identity.username):
            try:
                with transaction.atomic():
                    user = user_create(
                        username=username, email=None, password=None, referral_code=referral_code, client=client
                    )
                    XAccount.objects.create(user=user, x_id=identity.id, **_x_account_fields(identity))
                return user, True
            except UsernameTaken:
                continue
            except IntegrityError as exc:
                if not _is_x_id_collision(exc):
                    raise
                account = XAccount.objects.select_related("user").get(x_id=identity.id)
                break
        else:
            raise UsernameTaken()  # every candidate taken, random ones included: nothing sane left to try
    if not account.user.is_active:
        raise AccountDisabled()
    _x_account_refresh(account, identity)
    return account.user, False


def _is_x_id_collision(exc: IntegrityError) -> bool:
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) or str(exc)
    return "xaccount_x_id_unique" in constraint


def _username_candidates(handle: str) -> Iterator[str]:
    """The X handle as one of our usernames (3-30 letters, digits, _): as it is, then with _2 ... _9,
    then with random suffixes, for when those are taken."""
    base = re.sub(r"[^A-Za-z0-9_]", "", handle)[:_USERNAME_MAX] or "x_user"
    if len(base) < _USERNAME_MIN:
        base = f"{base}_x"
    yield base
    suffixes = [f"_{n}" for n in range(2, 10)] + [f"_{secrets.token_hex(3)}" for _ in range(_RANDOM_SUFFIX_TRIES)]
    for suffix in suffixes:
        yield base[: _USERNAME_MAX - len(suffix)] + suffix


def _x_link_check(*, user_id: UUID, identity: XIdentity, lock: bool = False) -> XAccount | None:
    """Refuse a link that cannot be made; return the user's current X account (this one) if any."""
    users = User.objects.select_for_update(no_key=True) if lock else User.objects
    user = users.filter(pk=user_id).first()
    if user is None or not user.is_active:
        raise AccountDisabled()
    if XAccount.objects.filter(x_id=identity.id).exclude(user_id=user_id).exists():
        raise XAccountTaken()
    mine = XAccount.objects.filter(user_id=user_id).first()
    if mine is not None and mine.x_id != identity.id:
        raise XAlreadyLinked()
    return mine


@transaction.atomic
def x_account_link(*, user_id: UUID, identity: XIdentity) -> XAccount:
    """Link this X account to the user (locked: one link or unlink of a user at a time)."""
    mine = _x_link_check(user_id=user_id, identity=identity, lock=True)
    if mine is not None:
        _x_account_refresh(mine, identity)
        return mine
    try:
        with transaction.atomic():
            return XAccount.objects.create(user_id=user_id, x_id=identity.id, **_x_account_fields(identity))
    except IntegrityError as exc:  # lost a race to someone else signing up or linking with it
        if not _is_x_id_collision(exc):
            raise
        raise XAccountTaken() from exc


@transaction.atomic
def x_account_unlink(*, user: User) -> User:
    """Remove the X account from `user`, as long as an email and password still let them in."""
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    account = XAccount.objects.filter(user=user).first()
    if account is None:
        raise XNotLinked()
    if not user.can_sign_in_with_password:
        raise LastSignInMethod()
    account.delete()
    return user
