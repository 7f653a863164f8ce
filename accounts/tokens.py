"""JWT pairs: issuing, rotating and revoking refresh tokens (simplejwt + its blacklist)."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from thisthat.errors import TokenInvalid

from .models import User


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return TokenPair(access_token=str(refresh.access_token), refresh_token=str(refresh))


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # checks signature, expiry, type and the blacklist
    except TokenError as exc:
        raise TokenInvalid() from exc


def _revoke(token: RefreshToken) -> None:
    """Blacklist one refresh token; losing a race to revoke the same token is a refusal."""
    outstanding = OutstandingToken.objects.filter(jti=token[api_settings.JTI_CLAIM]).first()
    if outstanding is None:
        raise TokenInvalid()
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as exc:
        raise TokenInvalid() from exc


def _owner(token: RefreshToken) -> User:
    user = get_user_model().objects.filter(pk=token.get(api_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None or token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise TokenInvalid()
    return user


@transaction.atomic
def token_pair_rotate(*, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented token can never be used again."""
    token = _parse_refresh(refresh_token)
    user = _owner(token)
    _revoke(token)
    return token_pair_issue(user=user)


@transaction.atomic
def token_revoke(*, user: User, refresh_token: str) -> None:
    token = _parse_refresh(refresh_token)
    if _owner(token).pk != user.pk:
        raise TokenInvalid()
    _revoke(token)


def tokens_revoke_all(*, user: User) -> None:
    """Blacklist every refresh token the user holds (after a password change or reset)."""
    open_tokens = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in open_tokens], ignore_conflicts=True
    )
