from rest_framework import serializers

from thisthat.money import ODDS, UPSTREAM_AMOUNT
from thisthat.pagination import PageOutput


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
    liquidity = serializers.DecimalField(**UPSTREAM_AMOUNT)
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
