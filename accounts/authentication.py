"""Bearer authentication (REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES): simplejwt's checks of the
access token, plus the family check of `accounts.tokens` — an access token of an ended sign-in is
refused at its next use — and no query for the user.

The family check (one Redis round trip) is what refuses a token after a password change or a
deactivation: both end every sign-in of the user, whichever way they are made (the services, the
admin, `manage.py changepassword`: see `accounts.signals`). So `request.user` is a `SessionUser`:
its id comes from the token, and its row is loaded only when a view needs more than the id — with
simplejwt's checks of that row (it exists, is active, and the token carries its password's digest)
still made then."""

from uuid import UUID

from django.utils.functional import SimpleLazyObject, empty
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from thisthat.errors import TokenInvalid

from .models import User
from .selectors import profile_get
from .tokens import FAMILY_CLAIM, access_family_check


def _user_row(token: Token, user_id: UUID) -> User:
    """The token's user, with simplejwt's checks; as the profile shows it (X account, ranks), in one query."""
    try:
        user = profile_get(user_id=user_id)
    except User.DoesNotExist as exc:
        raise AuthenticationFailed(_("User not found"), code="user_not_found") from exc
    if not user.is_active:
        raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
    if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
    return user


class SessionUser(SimpleLazyObject):
    """The user of a checked access token: `pk`/`id`, `is_authenticated` and truth without a query;
    anything else loads the row (once per request) and reads it."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, token: Token, user_id: UUID):
        super().__init__(lambda: _user_row(token, user_id))
        self.__dict__["pk"] = self.__dict__["id"] = user_id

    def __bool__(self) -> bool:
        return True


def user_row(user: User | SessionUser) -> User:
    """The model instance behind `request.user` as the profile shows it (`profile_get`), loaded if need
    be: a serializer that reads a dozen fields reads them from it directly, not each through the lazy
    proxy (a tenth of `/users/me`). A user authenticated another way (the admin's session) is read
    again, for its ranks."""
    if type(user) is not SessionUser:
        return profile_get(user_id=user.pk)
    if user._wrapped is empty:
        user._setup()
    return user._wrapped


class SessionJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        token = super().get_validated_token(raw_token)  # signature, expiry, type
        try:
            family_id = UUID(str(token[FAMILY_CLAIM]))
        except (KeyError, ValueError) as exc:  # a token from before sign-in families
            raise TokenInvalid() from exc
        access_family_check(family_id=family_id)
        return token

    def get_user(self, validated_token: Token) -> SessionUser:
        try:
            user_id = UUID(str(validated_token[api_settings.USER_ID_CLAIM]))
        except (KeyError, ValueError) as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        return SessionUser(validated_token, user_id)


class SessionJWTScheme(SimpleJWTScheme):
    """The same bearer scheme in the OpenAPI schema (drf-spectacular matches exact classes)."""

    target_class = SessionJWTAuthentication
