from rest_framework import serializers

from thisthat.money import CREDITS
from thisthat.pagination import PageOutput


class BoardUserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()


class BoardRowOutput(serializers.Serializer):
    rank = serializers.IntegerField()
    user = BoardUserOutput()
    # Spelled out: an automatic camelizer would write "overallPnl".
    overallPnL = serializers.DecimalField(source="pnl", **CREDITS)  # noqa: N815
    total_volume = serializers.DecimalField(source="volume", **CREDITS)


class BoardOutput(PageOutput):
    leaderboard = BoardRowOutput(many=True)
    period = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)


class PlacingOutput(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    value = serializers.DecimalField(**CREDITS)


class UserStandingOutput(serializers.Serializer):
    pnl = PlacingOutput()
    volume = PlacingOutput()
    total_users = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True)
