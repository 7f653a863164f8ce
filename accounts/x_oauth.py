"""X's side of "Sign in with X": OAuth 2.0 authorization code with PKCE (S256) through Authlib's
requests client, then one read of the user (`GET /2/users/me`). Nothing here touches our database
or cache; every failure leaves as X_EXCHANGE_FAILED (X refused) or X_UNAVAILABLE (X unreachable,
slow, throttling or answering nonsense), never as a raw exception."""

import logging
import re
import unicodedata
from dataclasses import dataclass

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .errors import XExchangeFailed, XNotConfigured, XUnavailable

logger = logging.getLogger(__name__)

SCOPES = "tweet.read users.read offline.access"
USER_FIELDS = "profile_image_url"

_X_ID = re.compile(r"[0-9]{1,32}")
_X_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}")
_NAME_MAX, _AVATAR_MAX = 100, 500
_https_url = URLValidator(schemes=["https"])


@dataclass(frozen=True)
class XIdentity:
    id: str
    username: str
    name: str
    avatar_url: str


def ensure_configured() -> None:
    if not settings.X_CLIENT_ID:
        raise XNotConfigured()


def _raise_when_unavailable(response: requests.Response) -> requests.Response:
    # Authlib reads a JSON 429 as a token response without a token; it is X saying "later".
    if response.status_code == 429:
        response.raise_for_status()
    return response


def _session() -> OAuth2Session:
    session = OAuth2Session(
        client_id=settings.X_CLIENT_ID,
        # With a secret, Authlib authenticates with HTTP Basic (X's confidential clients); without,
        # it sends client_id in the body (X's public clients).
        client_secret=settings.X_CLIENT_SECRET or None,
        scope=SCOPES,
        redirect_uri=settings.X_REDIRECT_URI,
        code_challenge_method="S256",
        default_timeout=(settings.X_CONNECT_TIMEOUT, settings.X_READ_TIMEOUT),
    )
    session.register_compliance_hook("access_token_response", _raise_when_unavailable)
    return session


def authorization_url(*, state: str, verifier: str) -> str:
    """X's consent page for this flow; the S256 challenge of `verifier` goes with it."""
    ensure_configured()
    with _session() as session:
        url, _ = session.create_authorization_url(settings.X_AUTHORIZE_URL, state=state, code_verifier=verifier)
    return url


def identity_fetch(*, code: str, verifier: str) -> XIdentity:
    """Exchange the authorization code (proving the flow with `verifier`) and read who signed in.
    X's tokens are used for this one read and not kept: we need the identity, not X access."""
    ensure_configured()
    with _session() as session:
        try:
            token = session.fetch_token(
                settings.X_TOKEN_URL, grant_type="authorization_code", code=code, code_verifier=verifier
            )
            if not token.get("access_token"):
                raise XExchangeFailed()
            response = session.get(settings.X_USERINFO_URL, params={"user.fields": USER_FIELDS})
            _raise_for_status(response)
            body = response.json()
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            logger.warning("x answered %s", status)
            raise (XUnavailable() if status == 429 or status >= 500 else XExchangeFailed()) from exc
        except OAuthError as exc:
            logger.info("x refused the code", extra={"error": exc.error})
            raise XExchangeFailed() from exc
        except (requests.RequestException, ValueError) as exc:  # timeouts, refused connections, not JSON
            logger.warning("x unreachable", extra={"error": f"{type(exc).__name__}: {exc}"})
            raise XUnavailable() from exc
    return _identity_from(body)


def _raise_for_status(response: requests.Response) -> None:
    if response.status_code >= 400:
        response.raise_for_status()


def _identity_from(body: object) -> XIdentity:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        logger.warning("x users/me without data")
        raise XUnavailable()
    x_id, handle = data.get("id"), data.get("username")
    if not (
        isinstance(x_id, str) and _X_ID.fullmatch(x_id) and isinstance(handle, str) and _X_HANDLE.fullmatch(handle)
    ):
        logger.warning("x users/me with a malformed id or username")
        raise XUnavailable()
    return XIdentity(id=x_id, username=handle, name=_clean_name(data.get("name")), avatar_url=_clean_url(data))


def _matches(pattern: re.Pattern, value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _clean_name(value: object) -> str:
    if not isinstance(value, str):
        return ""
    printable = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return printable.strip()[:_NAME_MAX]


def _clean_url(data: dict) -> str:
    url = data.get("profile_image_url")
    if not isinstance(url, str) or len(url) > _AVATAR_MAX:
        return ""
    try:
        _https_url(url)
    except ValidationError:
        return ""
    return url
