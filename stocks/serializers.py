"""Response shapes of the stock endpoints (SPEC §5 [stocks]). Credits and shares render as JSON numbers
with 2 decimals, prices with 4."""

from decimal import ROUND_HALF_UP

from rest_framework import serializers

from thisthat.money import CREDITS
from thisthat.pagination import PageOutput

from .models import CurveShape, TradeSide

SHARES_OUT = {"max_digits": 18, "decimal_places": 2}
PRICE_OUT = {"max_digits": 24, "decimal_places": 4, "rounding": ROUND_HALF_UP}


def credits_out(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**CREDITS, **kwargs)


def shares_out(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**SHARES_OUT, **kwargs)


def price_out(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**PRICE_OUT, **kwargs)


class StockOutput(serializers.Serializer):
    symbol = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    image_url = serializers.CharField()
    price = price_out(help_text="The price of the next share at the current supply (the curve's marginal price).")
    supply = shares_out(help_text="Shares outstanding: the sum of every holding.")
    holders = serializers.IntegerField(help_text="Users holding at least 0.01 of a share.")
    change_24h = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        help_text="The price's change since 24 hours ago, as a fraction of that price (0.0525 = +5.25 %).",
    )
    trading_enabled = serializers.BooleanField(help_text="false: trading is halted (TRADING_HALTED).")


class StockListOutput(serializers.Serializer):
    stocks = StockOutput(many=True)


class StockCurveOutput(serializers.Serializer):
    shape = serializers.ChoiceField(source="curve", choices=CurveShape.choices)
    base_price = credits_out(help_text="The price at supply 0.")
    slope = serializers.DecimalField(max_digits=12, decimal_places=6, help_text="Price added per share outstanding.")


class PricePointOutput(serializers.Serializer):
    price = price_out()
    supply = shares_out()
    recorded_at = serializers.DateTimeField()


class StockDetailOutput(StockOutput):
    curve = StockCurveOutput(source="*", help_text="linear: price = basePrice + slope * supply.")
    reserve = credits_out(help_text="What the house holds to buy every share back: the curve's integral, rounded up.")
    fee_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, help_text="The house's fee on each trade, as a fraction of its curve price."
    )
    history = PricePointOutput(
        many=True,
        help_text="The price after each trade, oldest first, from the listing (supply 0); downsampled to at most "
        "`points` trades (every n-th and always the latest).",
    )


class StockTradeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    symbol = serializers.CharField(source="stock.symbol")
    side = serializers.ChoiceField(choices=TradeSide.choices)
    shares = shares_out()
    credits = credits_out(help_text="What the buyer paid or the seller received, fee included.")
    fee = credits_out()
    average_price = price_out(help_text="credits / shares.")
    price_after = price_out()
    supply_after = shares_out()
    # Spelled out: an automatic camelizer would write "realizedPnl".
    realizedPnL = credits_out(  # noqa: N815
        source="realized_pnl",
        allow_null=True,
        help_text="Sales: the proceeds minus the cost of the shares sold (at the average cost); null for buys.",
    )
    created_at = serializers.DateTimeField()


class StockTradeListOutput(PageOutput):
    trades = StockTradeOutput(many=True)


class HoldingOutput(serializers.Serializer):
    symbol = serializers.CharField()
    shares = shares_out()
    average_cost = price_out(help_text="What the shares held cost, per share.")
    current_value = credits_out(help_text="What selling every share now would pay (the curve down, minus the fee).")
    unrealizedPnL = credits_out(source="unrealized_pnl")  # noqa: N815


class StockTradedOutput(serializers.Serializer):
    trade = StockTradeOutput()
    holding = HoldingOutput()
    new_balance = credits_out()


class StockQuoteOutput(serializers.Serializer):
    symbol = serializers.CharField()
    side = serializers.ChoiceField(choices=TradeSide.choices)
    shares = shares_out(source="trade.shares")
    credits = credits_out(source="trade.credits", help_text="What the buy would cost or the sale pay, fee included.")
    fee = credits_out(source="trade.fee")
    fee_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    average_price = price_out(source="trade.average_price")
    price_before = price_out(source="trade.price_before")
    price_after = price_out(source="trade.price_after")
    supply_after = shares_out(source="trade.supply_after")
