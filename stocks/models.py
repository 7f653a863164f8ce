import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from thisthat.money import credits_field

from .curves import BUY, LINEAR, SELL, Curve, curve_of

# Supplies, holdings and trades in hundredths of a share (stocks/curves.py SHARE_STEP).
SHARES = {"max_digits": 18, "decimal_places": 2}
# A share's price as the curve gives it: base (cents) + slope (6 places) * supply (hundredths), exact.
PRICE = {"max_digits": 24, "decimal_places": 8}
SYMBOL_PATTERN = r"^[A-Z][A-Z0-9]{0,9}$"
BASE_PRICE_MIN, BASE_PRICE_MAX = Decimal("1"), Decimal("10000")
SLOPE_MIN, SLOPE_MAX = Decimal("0.000001"), Decimal("100")


def shares_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(**SHARES, **kwargs)


class CurveShape(models.TextChoices):
    LINEAR = LINEAR, "Linear: price = base + slope * supply"


class Stock(models.Model):
    """A virtual stock staff list: its price follows a bonding curve on its supply (the shares
    outstanding). `reserve` is what the house holds to buy every share back (the curve's integral at
    the supply, rounded up to the cent); `house_take` what it kept beyond that (fees and rounding).
    The curve is fixed from the first trade (stocks.services)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    symbol = models.CharField(max_length=10, unique=True, help_text="1 to 10 upper-case letters and digits, e.g. THIS.")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    image_url = models.URLField(max_length=1000, blank=True)
    curve = models.CharField(max_length=16, choices=CurveShape.choices, default=CurveShape.LINEAR)
    base_price = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="The price of the first share, in credits (1 to 10,000)."
    )
    slope = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        help_text="How much the price rises per share outstanding (0.000001 to 100): at 0.01 each 100 shares "
        "bought add 1 credit to the price.",
    )
    trading_enabled = models.BooleanField(default=True, help_text="Off: the stock is halted (no buys, no sales).")
    supply = shares_field(default=Decimal(0))
    reserve = credits_field(default=Decimal(0))
    house_take = credits_field(default=Decimal(0))
    trades_count = models.PositiveBigIntegerField(default=0, help_text="Numbers the stock's trades in order.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.CheckConstraint(condition=models.Q(symbol__regex=SYMBOL_PATTERN), name="stock_symbol_upper_case"),
            models.CheckConstraint(condition=models.Q(supply__gte=0), name="stock_supply_non_negative"),
            models.CheckConstraint(condition=models.Q(reserve__gte=0), name="stock_reserve_non_negative"),
            models.CheckConstraint(condition=models.Q(house_take__gte=0), name="stock_house_take_non_negative"),
            models.CheckConstraint(
                condition=models.Q(base_price__gte=BASE_PRICE_MIN, base_price__lte=BASE_PRICE_MAX),
                name="stock_base_price_range",
            ),
            models.CheckConstraint(
                condition=models.Q(slope__gte=SLOPE_MIN, slope__lte=SLOPE_MAX), name="stock_slope_range"
            ),
            models.CheckConstraint(condition=models.Q(curve__in=CurveShape.values), name="stock_curve_known"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} ({self.name})"

    def curve_function(self) -> Curve:
        return curve_of(self.curve, base=self.base_price, slope=self.slope)

    @property
    def price(self) -> Decimal:
        return self.curve_function().price(self.supply)


class Holding(models.Model):
    """A user's shares of a stock and what they paid for them (`cost_basis`; a sale takes its share of
    it away, so the average cost stays). One row per user and stock, written under the stock's lock."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="holdings")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="holdings")
    shares = shares_field(default=Decimal(0))
    cost_basis = credits_field(default=Decimal(0))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["stock"], condition=models.Q(shares__gt=0), name="holding_stock_held_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "stock"], name="holding_one_per_user_and_stock"),
            models.CheckConstraint(condition=models.Q(shares__gte=0), name="holding_shares_non_negative"),
            models.CheckConstraint(condition=models.Q(cost_basis__gte=0), name="holding_cost_non_negative"),
            models.CheckConstraint(
                condition=models.Q(shares__gt=0) | models.Q(cost_basis=0), name="holding_no_cost_without_shares"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shares} {self.stock_id}"


class TradeSide(models.TextChoices):
    BUY = BUY, "Buy"
    SELL = SELL, "Sell"


class StockTrade(models.Model):
    """One buy or sale: `credits` is what the trader paid or received (fee included), with the ledger
    row (`stock_buy` / `stock_sell`) referencing this trade's id. `sequence` numbers a stock's trades
    in the order they happened (they take turns on the stock's row lock)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="trades")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stock_trades")
    sequence = models.PositiveBigIntegerField()
    side = models.CharField(max_length=4, choices=TradeSide.choices)
    shares = shares_field()
    credits = credits_field()
    fee = credits_field(default=Decimal(0))
    supply_after = shares_field()
    price_after = models.DecimalField(**PRICE)
    realized_pnl = credits_field(null=True, blank=True, help_text="Sales: the proceeds minus the cost they take away.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-sequence"]
        indexes = [models.Index(fields=["user", "-created_at"], name="stock_trade_user_recent_idx")]
        constraints = [
            models.UniqueConstraint(fields=["stock", "sequence"], name="stock_trade_sequence_unique"),
            models.CheckConstraint(condition=models.Q(shares__gt=0), name="stock_trade_shares_positive"),
            models.CheckConstraint(condition=models.Q(credits__gt=0), name="stock_trade_credits_positive"),
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="stock_trade_fee_non_negative"),
            models.CheckConstraint(condition=models.Q(supply_after__gte=0), name="stock_trade_supply_non_negative"),
            models.CheckConstraint(
                condition=models.Q(side=TradeSide.SELL) | models.Q(realized_pnl__isnull=True),
                name="stock_trade_pnl_on_sales_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.shares} for {self.credits}"

    @property
    def average_price(self) -> Decimal:
        """What a share cost or paid on average, fee included."""
        return self.credits / self.shares
