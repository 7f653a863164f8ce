import secrets
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from economy.rules import current_streak
from thisthat.money import credits_field

USERNAME_PATTERN = r"^[A-Za-z0-9_]{3,30}$"
# No 0/O or 1/I/L: codes are read aloud and typed from screenshots.
REFERRAL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 8


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=(email or "").strip().lower())

    # `createsuperuser` and friends go through the same service as registration, so the
    # signup bonus is posted to the ledger like for everyone else.
    def create_user(self, email, password=None, **fields):
        from .services import user_create

        return user_create(email=email, password=password, **fields)

    def create_superuser(self, email, password=None, **fields):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. accounts writes the identity fields; the other columns belong to the app that
    writes them, each through its own service and nothing else:

    - economy (`economy.services.ledger_post` / `ledger_post_many`): credit_balance, credit_debt,
      total_volume, overall_pnl — the running totals of the ledger;
    - economy (`economy.services.daily_reward_claim`): daily_streak, last_daily_reward_at — a copy of
      the latest daily reward;
    - economy (`economy.services.referral_open`, `ledger_post`): referral_pending — set at a sign-up
      with a code, cleared by the first qualifying bet;
    - abuse (`abuse.services.account_suspend` / `account_reinstate`, each with an audit row):
      suspended_at, suspension_reason. economy's ledger reads them with the row lock and refuses a
      suspended account's bets, cash-outs, claims, purchases and referral bonuses.

    The all-time ranks a profile shows are not columns: `accounts.selectors.profile_get` reads them with
    the row from the leaderboard's latest standings (registered through `accounts.dependents`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=30, validators=[RegexValidator(USERNAME_PATTERN)])
    # Lower case. NULL (never "") for an account made by signing in with X until its owner adds one:
    # PostgreSQL's unique indexes let any number of NULLs through, so the case-insensitive uniqueness
    # still holds for every account that has an email.
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    credit_balance = credits_field(default=0)  # economy: the ledger
    # economy: the ledger. What a clawback (a corrected resolution) took beyond the balance; later
    # credits pay it off first. Never both a balance and a debt.
    credit_debt = credits_field(default=0)
    total_volume = credits_field(default=0)  # economy: the ledger
    overall_pnl = credits_field(default=0)  # economy: the ledger
    referral_code = models.CharField(max_length=16, unique=True)
    referred_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    # economy: a copy of the latest daily reward (its streak day and time), written with it in one transaction.
    daily_streak = models.PositiveIntegerField(default=0, help_text="Streak day of the last daily reward.")
    last_daily_reward_at = models.DateTimeField(null=True, blank=True)
    # economy: the referrer's bonus for this account awaits its first qualifying bet.
    referral_pending = models.BooleanField(default=False)
    # abuse: a suspended account can sign in and read, but not bet, cash out, claim, buy or refer.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=255, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        db_table = "accounts_user"
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(condition=~models.Q(email=""), name="user_email_not_blank"),
            models.CheckConstraint(condition=models.Q(credit_balance__gte=0), name="user_balance_non_negative"),
            models.CheckConstraint(condition=models.Q(credit_debt__gte=0), name="user_debt_non_negative"),
            models.CheckConstraint(
                condition=models.Q(credit_balance=0) | models.Q(credit_debt=0), name="user_balance_or_debt"
            ),
        ]

    @property
    def current_daily_streak(self) -> int:
        """The streak as of now: 0 once a UTC day has been missed since the last claim."""
        return current_streak(last_claimed_at=self.last_daily_reward_at, streak=self.daily_streak, now=timezone.now())

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    # (password hash, is_active) as read from the database; accounts.signals ends the user's sign-ins
    # when a save changes them. None for an instance not loaded from the database.
    credentials_as_loaded: tuple[str, bool] | None = None

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        if "password" in user.__dict__ and "is_active" in user.__dict__:  # not deferred
            user.credentials_as_loaded = user.credentials_state()
        return user

    def credentials_state(self) -> tuple[str, bool]:
        return self.password, self.is_active

    def __str__(self) -> str:
        return self.username

    @property
    def can_sign_in_with_password(self) -> bool:
        return bool(self.email) and self.has_usable_password()


class SessionEndReason(models.TextChoices):
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    REVOKED = "revoked"  # ended from the session list (DELETE /auth/sessions/{id})
    PASSWORD_CHANGED = "password_changed"  # change or reset
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    DEACTIVATED = "deactivated"  # staff deactivated the account


class AuthSession(models.Model):
    """One sign-in (password, registration, X) and the family of tokens it starts: every refresh
    token rotated from it, and their access tokens, carry its id in the `fid` claim. Ending it ends
    them all. Written only by `accounts.tokens`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(default=timezone.now)
    # Set at each refresh and, at most once a minute, when an access token of the family is used.
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="When the family's newest refresh token expires.")
    user_agent = models.CharField(max_length=512, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=SessionEndReason.choices, blank=True)

    class Meta:
        db_table = "accounts_auth_session"
        indexes = [
            models.Index(
                fields=["user", "-last_used_at"], condition=models.Q(ended_at__isnull=True), name="auth_session_live"
            ),
            # The revocation list is rebuilt from the families ended in the last access-token lifetime.
            models.Index(fields=["ended_at"], condition=models.Q(ended_at__isnull=False), name="auth_session_ended"),
            models.Index(fields=["expires_at"], name="auth_session_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True, end_reason="")
                | models.Q(ended_at__isnull=False) & ~models.Q(end_reason=""),
                name="auth_session_end_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class SessionRefreshToken(models.Model):
    """A refresh token of a family, by its `jti`. Rotation records the successor it produced (its
    jti; it was issued at `rotated_at`), so a re-presentation within the grace window gets the same
    pair back, signed again from those claims: no token is stored."""

    jti = models.UUIDField(primary_key=True)
    session = models.ForeignKey(AuthSession, on_delete=models.CASCADE, related_name="refresh_tokens")
    issued_at = models.DateTimeField()  # whole seconds: the `iat` claim
    expires_at = models.DateTimeField(db_index=True)
    rotated_at = models.DateTimeField(null=True, blank=True)  # whole seconds: the successor's `iat`
    successor_jti = models.UUIDField(null=True, blank=True)

    class Meta:
        db_table = "accounts_session_refresh_token"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rotated_at__isnull=True, successor_jti__isnull=True)
                | models.Q(rotated_at__isnull=False, successor_jti__isnull=False),
                name="session_refresh_token_rotation_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"refresh token {self.jti} of session {self.session_id}"


class XAccount(models.Model):
    """The X (Twitter) account a user signs in with: one per user, and one user per X account (the
    database says both). Handle, name and avatar are refreshed from X at every sign-in."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="x_account")
    x_id = models.CharField(max_length=32, help_text="X's numeric user id (kept as text: it exceeds 2**53).")
    username = models.CharField(max_length=50, help_text="The X handle, without the @.")
    name = models.CharField(max_length=100, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    linked_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts_xaccount"
        verbose_name = "X account"
        constraints = [models.UniqueConstraint(fields=["x_id"], name="xaccount_x_id_unique")]

    def __str__(self) -> str:
        return f"@{self.username}"
