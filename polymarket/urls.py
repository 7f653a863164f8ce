from django.urls import path

from . import api

# Under /api/v1/, before the markets app's routes (its `markets/<id>` would take `markets/ingest`).
urlpatterns = [
    path("markets/ingest", api.MarketIngestApi.as_view(), name="markets-ingest"),
    path("markets/<str:market_id>/live", api.MarketLiveApi.as_view(), name="markets-live"),
    path("markets/<str:market_id>/full", api.MarketFullApi.as_view(), name="markets-full"),
    path("monitoring/external-apis", api.ExternalApisApi.as_view(), name="monitoring-external-apis"),
    path("monitoring/polymarket-rate-limit", api.RateLimitApi.as_view(), name="monitoring-polymarket-rate-limit"),
    path(
        "monitoring/polymarket-circuit-breaker",
        api.CircuitBreakerApi.as_view(),
        name="monitoring-polymarket-circuit-breaker",
    ),
]
