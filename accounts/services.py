from typing import NoReturn
from uuid import UUID

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.models import update_last_login
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from activity.models import ActivityKind
from activity.services import activity_record
from economy.models import LedgerKind
from economy.services import ledger_post, referral_open
from thisthat.errors import ValidationFailed
from thisthat.http import Client

from .errors import EmailTaken, InvalidCredentials, InvalidReferralCode, PasswordAlreadySet, UsernameTaken
from .models import SessionEndReason, User, new_referral_code
from .tokens import TokenPair, token_pair_issue, tokens_revoke_all


def _normalize_email(email: str) -> str:
    return email.strip().lower()


def _ensure_email_free(email: str, *, exclude: UUID | None = None) -> None:
    if User.objects.filter(email__iexact=email).exclude(pk=exclude).exists():
        raise EmailTaken(details={"email": [EmailTaken.message]})


def _ensure_username_free(username: str, *, exclude: UUID | None = None) -> None:
    if User.objects.filter(username__iexact=username).exclude(pk=exclude).exists():
        raise UsernameTaken(details={"username": [UsernameTaken.message]})


def _validate_password(password: str, *, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={field: exc.messages}) from exc


def _raise_collision(exc: IntegrityError) -> NoReturn:
    """Re-raise a lost race on a unique constraint as the error the pre-check would have raised."""
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) or str(exc)
    if "username" in constraint:
        raise UsernameTaken(details={"username": [UsernameTaken.message]}) from exc
    if "email" in constraint:
        raise EmailTaken(details={"email": [EmailTaken.message]}) from exc
    raise exc


def _referrer_for(code: str) -> User:
    """The active account whose code this is. A suspended account cannot refer: its code is refused
    like an unknown one (a stranger is not told that the account is suspended)."""
    referrer = User.objects.filter(
        referral_code=code.strip().upper(), is_active=True, suspended_at__isnull=True
    ).first()
    if referrer is None:
        raise InvalidReferralCode(details={"referralCode": [InvalidReferralCode.message]})
    return referrer


def referral_code_check(*, code: str) -> None:
    """Raise INVALID_REFERRAL_CODE unless `code` would earn a referral at sign-up now."""
    _referrer_for(code)


def _unique_referral_code() -> str:
    while True:
        code = new_referral_code()
        if not User.objects.filter(referral_code=code).exists():
            return code


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str | None,
    password: str | None,
    referral_code: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    validate_password: bool = True,
    client: Client | None = None,
) -> User:
    """Create an account with its signup bonus on the ledger. With a referral code, the new user's
    referral bonus too; the referrer's waits for the new user's first qualifying bet (economy).
    `email` is None for an account made by signing in with X; `password` None makes it unusable."""
    email = _normalize_email(email) if email else None
    _ensure_username_free(username)
    if email:
        _ensure_email_free(email)
    referrer = _referrer_for(referral_code) if referral_code else None

    user = User(
        username=username,
        email=email,
        referral_code=_unique_referral_code(),
        referred_by=referrer,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password is not None and validate_password:
        _validate_password(password, user=user, field="password")
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:
        _raise_collision(exc)

    ledger_post(
        user_id=user.pk, amount=settings.SIGNUP_BONUS, kind=LedgerKind.SIGNUP_BONUS, description="Welcome bonus"
    )
    if referrer is not None:
        referral_open(referrer_id=referrer.pk, referred_id=user.pk, referrer_username=referrer.username)
    activity_record(kind=ActivityKind.SIGNUP, user_id=user.pk, client=client)
    user.refresh_from_db(fields=["credit_balance", "referral_pending"])
    return user


def user_authenticate(*, email: str, password: str, client: Client | None = None) -> User:
    """The account these credentials open (a suspended one too: it may sign in and read)."""
    user = authenticate(username=_normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials()
    with transaction.atomic():  # after the password hash: no transaction waits on it
        update_last_login(None, user)
        activity_record(kind=ActivityKind.LOGIN, user_id=user.pk, client=client)
    return user


@transaction.atomic
def user_update_profile(*, user: User, username: str | None = None) -> User:
    if username is not None and username != user.username:
        _ensure_username_free(username, exclude=user.pk)
        user.username = username
        try:
            with transaction.atomic():
                user.save(update_fields=["username"])
        except IntegrityError as exc:
            _raise_collision(exc)
    return user


def _password_set(*, user: User, new_password: str, field: str = "newPassword") -> None:
    """Set a password; saving it ends every sign-in of the user (accounts.signals). Earlier tokens
    also carry the old hash's digest, which no longer matches: see SIMPLE_JWT."""
    _validate_password(new_password, user=user, field=field)
    user.set_password(new_password)
    user.save(update_fields=["password"])


@transaction.atomic
def password_add(
    *, user: User, password: str, email: str | None = None, request: HttpRequest | None = None
) -> TokenPair:
    """Give an account that has none (one made by signing in with X) a password, and an email to
    sign in with if it has none either; from then on it can sign in either way."""
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if user.has_usable_password():
        raise PasswordAlreadySet()
    if email:
        email = _normalize_email(email)
        if user.email and user.email != email:
            raise ValidationFailed.on("email", "This account already has an email; leave it out.")
        _ensure_email_free(email, exclude=user.pk)
        user.email = email
    elif not user.email:
        raise ValidationFailed.on("email", "An email is required to sign in with a password.")
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError as exc:
        _raise_collision(exc)
    _password_set(user=user, new_password=password, field="password")
    return token_pair_issue(user=user, request=request)


@transaction.atomic
def password_change(
    *, user: User, current_password: str, new_password: str, request: HttpRequest | None = None
) -> TokenPair:
    """Change the password; every session ends and a new one starts for the caller (`request`)."""
    if not user.check_password(current_password):
        raise ValidationFailed.on("currentPassword", "Current password is incorrect.")
    _password_set(user=user, new_password=new_password)
    return token_pair_issue(user=user, request=request)


def password_reset_request(*, email: str) -> None:
    """Queue a reset email. The account lookup happens in the worker, so the response (and its
    timing) is the same whether or not the address has an account."""
    from .tasks import send_password_reset_email

    address = _normalize_email(email)
    # Robust: a broker outage is logged; the caller learns nothing either way.
    transaction.on_commit(lambda: send_password_reset_email.delay(address), robust=True)


def password_reset_email_send(*, email: str) -> None:
    """Email a one-time reset link to the active account with this address, if there is one."""
    user = User.objects.filter(email=_normalize_email(email), is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"
    send_mail(
        subject="Reset your THISTHAT password",
        message=(
            f"Hi {user.username},\n\nReset your password here: {link}\n\n"
            f"Or send uid={uid} and token={token} to POST /api/v1/auth/password/reset/confirm.\n"
            "The link works once. If you did not ask for it, ignore this email.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


_INVALID_RESET = "This reset link is invalid or has expired."


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    try:
        user_id = UUID(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.on("token", _INVALID_RESET) from exc
    user = get_user_model().objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationFailed.on("token", _INVALID_RESET)
    _password_set(user=user, new_password=new_password)


@transaction.atomic
def users_set_active(*, user_ids: list[UUID], active: bool) -> int:
    """Deactivate (or reactivate) accounts: the admin's replacement for deleting one, whose bets and
    ledger rows must be kept. A deactivated user cannot log in, and every token they hold stops
    working (access tokens are refused for inactive users; refresh tokens are revoked here).
    Returns how many accounts changed."""
    users = list(
        User.objects.select_for_update(no_key=True).filter(pk__in=user_ids).exclude(is_active=active).order_by("pk")
    )
    User.objects.filter(pk__in=[user.pk for user in users]).update(is_active=active)
    if not active:
        for user in users:
            tokens_revoke_all(user=user, reason=SessionEndReason.DEACTIVATED)
    return len(users)
