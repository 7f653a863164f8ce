from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .handlers import unknown_endpoint
from .ops import HealthApi, IndexApi, ReadyApi

api_v1 = [
    path("auth/", include("accounts.urls_auth")),
    path("users/", include("accounts.urls_users")),
    path("", include("polymarket.urls")),
    path("", include("markets.urls")),
    path("", include("economy.urls")),
    path("", include("stocks.urls")),
    path("", include("betting.urls")),
    path("", include("leaderboard.urls")),
    path("", include("abuse.urls")),
]

urlpatterns = [
    path("", IndexApi.as_view(), name="index"),
    path("health", HealthApi.as_view(), name="health"),
    path("ready", ReadyApi.as_view(), name="ready"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("observability.urls")),  # /metrics, and the admin's overview (before the admin's own)
    path("admin/", admin.site.urls),
    re_path(r"^(?!admin|static/)", unknown_endpoint),
]

handler400 = "thisthat.handlers.bad_request"
handler403 = "thisthat.handlers.permission_denied"
handler404 = "thisthat.handlers.page_not_found"
handler500 = "thisthat.handlers.server_error"
