from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from thisthat.openapi import error_responses

from .connection import circuit_breaker, rate_limiter
from .selectors import external_api_status


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
        operation_id="monitoring_external_apis", responses={200: ExternalApisOutput, **error_responses(401, 403)}
    )
    def get(self, request):
        return Response(external_api_status())


class CircuitBreakerApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="monitoring_polymarket_circuit_breaker",
        responses={200: CircuitBreakerOutput, **error_responses(401, 403)},
    )
    def get(self, request):
        return Response(circuit_breaker().snapshot())


class RateLimitApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="monitoring_polymarket_rate_limit", responses={200: RateLimitOutput, **error_responses(401, 403)}
    )
    def get(self, request):
        return Response(rate_limiter().snapshot())
