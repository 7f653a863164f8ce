"""Bearer authentication (REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES): simplejwt's checks of the
access token and its user, plus the family check of `accounts.tokens` — an access token of an ended
sign-in is refused at its next use."""

from uuid import UUID

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token

from thisthat.errors import TokenInvalid

from .tokens import FAMILY_CLAIM, access_family_check


class SessionJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        token = super().get_validated_token(raw_token)  # signature, expiry, type
        try:
            family_id = UUID(str(token[FAMILY_CLAIM]))
        except (KeyError, ValueError) as exc:  # a token from before sign-in families
            raise TokenInvalid() from exc
        access_family_check(family_id=family_id)
        return token


class SessionJWTScheme(SimpleJWTScheme):
    """The same bearer scheme in the OpenAPI schema (drf-spectacular matches exact classes)."""

    target_class = SessionJWTAuthentication
