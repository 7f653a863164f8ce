"""Polymarket-backed endpoints: live odds of a market (and the market with them), the staff trigger
for an ingestion run, and staff monitoring of the client's breaker and budget."""

from dataclasses import asdict
from uuid import uuid4

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from markets.models import Market
from markets.selectors import market_get
from thisthat.openapi import error_responses

from .errors import PolymarketUnavailable
from .prices import NoOddsAvailable, live_odds
from .selectors import circuit_breaker_status, external_api_status, rate_limit_status
from .serializers import LiveOddsOutput, MarketFullOutput, TaskQueuedOutput
from .tasks import ingest_markets

MARKET_ID = OpenApiParameter("market_id", str, OpenApiParameter.PATH, description="Market UUID.")


def _live(market: Market) -> dict:
    try:
        return asdict(live_odds(market=market))
    except NoOddsAvailable as exc:
        raise PolymarketUnavailable() from exc


class MarketLiveApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="markets_live",
        parameters=[MARKET_ID],
        responses={200: LiveOddsOutput, **error_responses(404, 503)},
    )
    def get(self, request, market_id: str):
        return Response(LiveOddsOutput(_live(market_get(market_id=market_id))).data)


class MarketFullApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="markets_full",
        parameters=[MARKET_ID],
        responses={200: MarketFullOutput, **error_responses(404, 503)},
    )
    def get(self, request, market_id: str):
        market = market_get(market_id=market_id)
        return Response(MarketFullOutput({"market": market, "live": _live(market)}).data)


class MarketIngestApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="markets_ingest", request=None, responses={202: TaskQueuedOutput, **error_responses(401, 403)}
    )
    def post(self, request):
        task_id = str(uuid4())
        transaction.on_commit(lambda: ingest_markets.apply_async(task_id=task_id), robust=True)
        return Response(TaskQueuedOutput({"task_id": task_id}).data, status=202)


class CircuitBreakerOutput(serializers.Serializer):
    state = serializers.ChoiceField(choices=["closed", "open", "half_open"])
    consecutive_failures = serializers.IntegerField()
    failure_threshold = serializers.IntegerField()
    reset_timeout_seconds = serializers.FloatField()
    opened_at = serializers.DateTimeField(allow_null=True)
    half_open_at = serializers.DateTimeField(allow_null=True)


class RateLimitOutput(serializers.Serializer):
    limit_per_minute = serializers.IntegerField()
    used_this_minute = serializers.IntegerField()
    remaining_this_minute = serializers.IntegerField()
    window_resets_at = serializers.DateTimeField()


class LastSuccessOutput(serializers.Serializer):
    ingestion = serializers.DateTimeField(allow_null=True)
    odds_sync = serializers.DateTimeField(allow_null=True)
    resolution_poll = serializers.DateTimeField(allow_null=True)


class PolymarketStatusOutput(serializers.Serializer):
    circuit_breaker = CircuitBreakerOutput()
    rate_limit = RateLimitOutput()
    last_success = LastSuccessOutput()


class ExternalApisOutput(serializers.Serializer):
    polymarket = PolymarketStatusOutput()


class ExternalApisApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="monitoring_external_apis",
        responses={200: ExternalApisOutput, **error_responses(401, 403, 503)},
    )
    def get(self, request):
        return Response(external_api_status())


class CircuitBreakerApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="monitoring_polymarket_circuit_breaker",
        responses={200: CircuitBreakerOutput, **error_responses(401, 403, 503)},
    )
    def get(self, request):
        return Response(circuit_breaker_status())


class RateLimitApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="monitoring_polymarket_rate_limit",
        responses={200: RateLimitOutput, **error_responses(401, 403, 503)},
    )
    def get(self, request):
        return Response(rate_limit_status())
