from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from thisthat.money import CREDITS, ODDS, UPSTREAM_AMOUNT
from thisthat.pagination import PageOutput

from .maker import SHARES_PLACES

MAKER_SHARES = {"max_digits": 24, "decimal_places": 6}


class MarketMakerOutput(serializers.Serializer):
    """The market maker of a credits market (a logarithmic market scoring rule): with these a client
    can price any bet itself: s shares of THIS cost C(q + s) - C(q), C(q) = b·ln(e^(q_this/b) +
    e^(q_that/b))."""

    liquidity = serializers.DecimalField(source="maker_liquidity", **CREDITS, help_text="The liquidity b.")
    this_shares = serializers.DecimalField(
        source="maker_this_shares",
        **MAKER_SHARES,
        help_text=f"Shares of THIS outstanding (q_this, to {SHARES_PLACES}).",
    )
    that_shares = serializers.DecimalField(
        source="maker_that_shares", **MAKER_SHARES, help_text="Shares of THAT outstanding (q_that)."
    )


class MarketOutput(serializers.Serializer):
    id = serializers.UUIDField()
    polymarket_id = serializers.CharField(allow_null=True)
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    this_option = serializers.CharField()
    that_option = serializers.CharField()
    this_odds = serializers.DecimalField(**ODDS, allow_null=True)
    that_odds = serializers.DecimalField(**ODDS, allow_null=True)
    liquidity = serializers.DecimalField(
        **UPSTREAM_AMOUNT,
        help_text="polymarket: Polymarket's liquidity in USD. credits: the market maker's liquidity b (credits).",
    )
    volume = serializers.DecimalField(**UPSTREAM_AMOUNT)
    category = serializers.CharField()
    market_type = serializers.CharField()
    status = serializers.CharField(source="current_status", help_text="closed once past expiresAt.")
    resolution = serializers.CharField(allow_null=True)
    image_url = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    odds_updated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    maker = serializers.SerializerMethodField(
        help_text="credits markets only (null on polymarket ones): the market maker that prices every bet "
        "and cash-out and moves thisOdds/thatOdds."
    )

    @extend_schema_field(MarketMakerOutput(allow_null=True))
    def get_maker(self, market) -> dict | None:
        return MarketMakerOutput(market).data if market.has_maker else None


class MarketListOutput(PageOutput):
    markets = MarketOutput(many=True)


class MarketsOutput(serializers.Serializer):
    markets = MarketOutput(many=True)


class CategoryOutput(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    open_markets = serializers.IntegerField()


class CategoryListOutput(serializers.Serializer):
    categories = CategoryOutput(many=True)


class OddsPointOutput(serializers.Serializer):
    this_odds = serializers.DecimalField(**ODDS)
    that_odds = serializers.DecimalField(**ODDS)
    source = serializers.CharField(help_text="trade (a bet or cash-out on a credits market) or staff (odds staff set).")
    recorded_at = serializers.DateTimeField()


class OddsHistoryOutput(PageOutput):
    market_id = serializers.UUIDField()
    history = OddsPointOutput(many=True)
