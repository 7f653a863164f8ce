from rest_framework import serializers

from markets.serializers import ODDS, MarketOutput


class LiveOddsOutput(serializers.Serializer):
    market_id = serializers.UUIDField()
    this_odds = serializers.DecimalField(**ODDS, allow_null=True)
    that_odds = serializers.DecimalField(**ODDS, allow_null=True)
    source = serializers.ChoiceField(choices=["polymarket", "cache", "stored"])
    fetched_at = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField()


class MarketFullOutput(serializers.Serializer):
    market = MarketOutput()
    live = LiveOddsOutput()


class TaskQueuedOutput(serializers.Serializer):
    task_id = serializers.CharField()
