import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from thisthat.money import ODDS, UPSTREAM_AMOUNT, credits_field, odds_field

from .maker import MakerState

# The market maker's shares outstanding (markets/maker.py): trades move whole cents, the starting
# state is b·ln(p / (1 - p)) to 6 places.
MAKER_SHARES = {"max_digits": 24, "decimal_places": 6}


class MarketType(models.TextChoices):
    POLYMARKET = "polymarket", "Polymarket"
    CREDITS = "credits", "Credits"


class MarketStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    RESOLVED = "resolved", "Resolved"
    CANCELLED = "cancelled", "Cancelled"


# A settled market has its outcome: resolved (THIS or THAT) or cancelled (INVALID, stakes refunded).
SETTLED_STATUSES = (MarketStatus.RESOLVED, MarketStatus.CANCELLED)


class Resolution(models.TextChoices):
    THIS = "this", "THIS"
    THAT = "that", "THAT"
    INVALID = "invalid", "Invalid"


class ResolutionSource(models.TextChoices):
    ADMIN = "admin", "Staff (admin)"
    POLYMARKET = "polymarket", "Polymarket"


class Side(models.TextChoices):
    THIS = "this", "THIS"
    THAT = "that", "THAT"


class MarketQuerySet(models.QuerySet):
    """Status as clients see it: a market past its expiry takes no bets, so it is closed even while
    its stored status still says open (nothing writes the moment it expires)."""

    def open_at(self, now: datetime) -> "MarketQuerySet":
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now), status=MarketStatus.OPEN)

    def closed_at(self, now: datetime) -> "MarketQuerySet":
        return self.filter(
            models.Q(status=MarketStatus.CLOSED) | models.Q(status=MarketStatus.OPEN, expires_at__lte=now)
        )

    def with_status_at(self, status: str, now: datetime) -> "MarketQuerySet":
        if status == MarketStatus.OPEN:
            return self.open_at(now)
        if status == MarketStatus.CLOSED:
            return self.closed_at(now)
        return self.filter(status=status)


class Market(models.Model):
    """A binary question. Polymarket markets mirror Gamma/CLOB; credits markets are run by staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    market_type = models.CharField(max_length=16, choices=MarketType.choices, default=MarketType.CREDITS)
    polymarket_id = models.CharField(
        max_length=66, unique=True, null=True, blank=True, help_text="Polymarket conditionId (0x + 64 hex)."
    )
    polymarket_gamma_id = models.CharField(max_length=32, blank=True)
    this_token_id = models.CharField(max_length=100, blank=True)
    that_token_id = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=255, blank=True)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    this_option = models.CharField(max_length=100, default="Yes")
    that_option = models.CharField(max_length=100, default="No")
    this_odds = models.DecimalField(**ODDS, null=True, blank=True)
    that_odds = models.DecimalField(**ODDS, null=True, blank=True)
    liquidity = models.DecimalField(**UPSTREAM_AMOUNT, default=Decimal(0))
    volume = models.DecimalField(**UPSTREAM_AMOUNT, default=Decimal(0))
    volume_24h = models.DecimalField(**UPSTREAM_AMOUNT, default=Decimal(0))
    category = models.CharField(max_length=100, default="Uncategorized")
    category_slug = models.SlugField(max_length=100, default="uncategorized")
    status = models.CharField(max_length=16, choices=MarketStatus.choices, default=MarketStatus.OPEN)
    # NULL until the market is settled (the API shows null); a constraint ties it to the status.
    resolution = models.CharField(max_length=16, choices=Resolution.choices, null=True, blank=True)  # noqa: DJ001
    image_url = models.URLField(max_length=1000, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    odds_updated_at = models.DateTimeField(null=True, blank=True)
    resolution_source = models.CharField(max_length=16, choices=ResolutionSource.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True, help_text="When every bet had been settled.")
    listed_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time ingestion saw this market in Polymarket's open listing."
    )
    resolution_checked_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time the resolution poller asked Polymarket about this market."
    )
    # Once a market has bets, ingestion never changes its outcome labels, their order or its token
    # ids; what upstream says instead is kept here for staff to review.
    upstream_identity_conflict = models.JSONField(
        null=True, blank=True, help_text="Outcome labels and token ids upstream now gives, when they differ from ours."
    )
    upstream_identity_conflict_at = models.DateTimeField(null=True, blank=True)
    # The resolution poller never unresolves; when Polymarket's final result later differs from the
    # outcome we settled with, it records upstream's outcome here for staff to review.
    upstream_result_conflict = models.CharField(  # noqa: DJ001
        max_length=16,
        choices=Resolution.choices,
        null=True,
        blank=True,
        help_text="Polymarket's result, when it differs from ours.",
    )
    upstream_result_conflict_at = models.DateTimeField(null=True, blank=True)
    # Credits markets only: the automated market maker's state (markets/maker.py). Written with
    # every trade, under the market's exclusive lock; NULL on Polymarket markets.
    maker_liquidity = credits_field(
        null=True, blank=True, help_text="LMSR liquidity b: larger moves the odds less per bet."
    )
    maker_this_shares = models.DecimalField(**MAKER_SHARES, null=True, blank=True)
    maker_that_shares = models.DecimalField(**MAKER_SHARES, null=True, blank=True)
    # How many times this market's settlement has been reversed (market_unresolve): ledger payouts and
    # refunds are unique per (bet, round), so a re-resolution pays each bet again exactly once.
    settlement_round = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = MarketQuerySet.as_manager()

    class Meta:
        ordering = ["-volume", "id"]
        indexes = [
            # One per listing sort, led by the status filter every listing applies.
            models.Index(fields=["status", "-volume", "id"], name="market_status_volume_idx"),
            models.Index(fields=["status", "-liquidity", "id"], name="market_status_liquidity_idx"),
            models.Index(fields=["status", "expires_at", "id"], name="market_status_expires_idx"),
            models.Index(fields=["status", "-created_at", "id"], name="market_status_newest_idx"),
            models.Index(fields=["category_slug", "status", "-volume"], name="market_category_idx"),
            # `q` (a case-insensitive substring search) is served by a trigram GIN index on
            # UPPER(title), created by migration 0001 on PostgreSQL only: SQLite cannot build it.
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(this_odds__gte=0, this_odds__lte=1) | models.Q(this_odds__isnull=True),
                name="market_this_odds_in_unit_interval",
            ),
            models.CheckConstraint(
                condition=models.Q(that_odds__gte=0, that_odds__lte=1) | models.Q(that_odds__isnull=True),
                name="market_that_odds_in_unit_interval",
            ),
            # The same rule as markets.odds.odds_checked, as the database's last word.
            models.CheckConstraint(
                condition=models.Q(this_odds__isnull=True)
                | models.Q(that_odds__isnull=True)
                | models.Q(
                    GreaterThanOrEqual(models.F("this_odds") + models.F("that_odds"), Decimal("0.98")),
                    LessThanOrEqual(models.F("this_odds") + models.F("that_odds"), Decimal("1.02")),
                ),
                name="market_odds_sum_to_one",
            ),
            models.CheckConstraint(
                condition=~models.Q(market_type=MarketType.POLYMARKET) | models.Q(polymarket_id__isnull=False),
                name="market_polymarket_has_condition_id",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SETTLED_STATUSES) | models.Q(resolution__isnull=True),
                name="market_resolution_only_when_settled",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    market_type=MarketType.CREDITS,
                    maker_liquidity__gt=0,
                    maker_this_shares__gte=0,
                    maker_that_shares__gte=0,
                )
                | models.Q(
                    market_type=MarketType.POLYMARKET,
                    maker_liquidity__isnull=True,
                    maker_this_shares__isnull=True,
                    maker_that_shares__isnull=True,
                ),
                name="market_maker_state_iff_credits",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def current_status(self) -> str:
        """The status clients see (MarketQuerySet): open past its expiry is closed."""
        expired = self.expires_at is not None and self.expires_at <= timezone.now()
        return MarketStatus.CLOSED if self.status == MarketStatus.OPEN and expired else self.status

    def odds_for(self, side: str) -> Decimal | None:
        return self.this_odds if side == Side.THIS else self.that_odds

    @property
    def has_maker(self) -> bool:
        """Priced by our market maker (credits markets), not mirrored from upstream."""
        return self.market_type == MarketType.CREDITS

    def maker_state(self) -> MakerState:
        """The market maker of a credits market, as stored."""
        if not self.has_maker:
            raise ValueError(f"market {self.pk} has no market maker")
        return MakerState(self.maker_liquidity, self.maker_this_shares, self.maker_that_shares)


class OddsSource(models.TextChoices):
    TRADE = "trade", "A trade with the market maker"
    STAFF = "staff", "Set by staff"


class OddsPoint(models.Model):
    """The odds of a market after a change, for drawing its history: every trade on a credits market
    (bet or cash-out) and the starting odds staff set."""

    id = models.BigAutoField(primary_key=True)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="odds_points")
    this_odds = odds_field()
    that_odds = odds_field()
    source = models.CharField(max_length=16, choices=OddsSource.choices)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "markets_odds_point"
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["market", "recorded_at", "id"], name="odds_point_market_time_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(this_odds__gt=0, this_odds__lt=1, that_odds__gt=0, that_odds__lt=1),
                name="odds_point_odds_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.this_odds}/{self.that_odds} at {self.recorded_at:%Y-%m-%d %H:%M:%S}"
