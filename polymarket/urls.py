from django.urls import path

from .api import CircuitBreakerApi, ExternalApisApi, RateLimitApi

urlpatterns = [
    path("external-apis", ExternalApisApi.as_view(), name="monitoring-external-apis"),
    path("polymarket-rate-limit", RateLimitApi.as_view(), name="monitoring-polymarket-rate-limit"),
    path("polymarket-circuit-breaker", CircuitBreakerApi.as_view(), name="monitoring-polymarket-circuit-breaker"),
]
