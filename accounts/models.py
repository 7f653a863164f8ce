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
    """An account. accounts writes the identity fields; three groups of columns belong to the app
    that writes them, each through its own service and nothing else:

    - economy (`economy.services.ledger_post` / `ledger_post_many`): credit_balance, credit_debt,
      total_volume, overall_pnl — the running totals of the ledger;
    - economy (`economy.services.daily_reward_claim`): daily_streak, last_daily_reward_at — a copy of
      the latest daily reward;
    - leaderboard (`leaderboard.services.ranks_recompute`): rank_by_pnl, rank_by_volume.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=30, validators=[RegexValidator(USERNAME_PATTERN)])
    email = models.EmailField(max_length=254, unique=True)
    credit_balance = credits_field(default=0)  # economy: the ledger
    # economy: the ledger. What a clawback (a corrected resolution) took beyond the balance; later
    # credits pay it off first. Never both a balance and a debt.
    credit_debt = credits_field(default=0)
    total_volume = credits_field(default=0)  # economy: the ledger
    overall_pnl = credits_field(default=0)  # economy: the ledger
    rank_by_pnl = models.PositiveIntegerField(null=True, blank=True)  # leaderboard
    rank_by_volume = models.PositiveIntegerField(null=True, blank=True)  # leaderboard
    referral_code = models.CharField(max_length=16, unique=True)
    referred_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    # economy: a copy of the latest daily reward (its streak day and time), written with it in one transaction.
    daily_streak = models.PositiveIntegerField(default=0, help_text="Streak day of the last daily reward.")
    last_daily_reward_at = models.DateTimeField(null=True, blank=True)
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

    def __str__(self) -> str:
        return self.username
