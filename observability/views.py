from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST

from thisthat.handlers import page_not_found

from . import exposition, selectors
from .charts import bar_chart

OVERVIEW_DAYS = 30


def metrics(request):
    """`/metrics`: Prometheus's text format, for a bearer token or an allowed address only; not part
    of the public API (no OpenAPI entry)."""
    if not settings.METRICS_ENABLED:
        return page_not_found(request)
    refused = exposition.refusal(request)
    if refused is not None:
        return HttpResponse(refused.body, status=refused.status, headers=refused.headers)
    return HttpResponse(exposition.scrape(), content_type=CONTENT_TYPE_LATEST)


def overview(request):
    """The staff overview (admin): today's numbers, the last 30 days', and their daily charts."""
    found = selectors.overview(now=timezone.now(), days=OVERVIEW_DAYS)
    days = found.days
    labels = [day.day.isoformat() for day in days]
    context = {
        **admin.site.each_context(request),
        "title": "Overview",
        "today": found.today,
        "month": found.window,
        "open_markets": found.open_markets,
        "pending_settlements": found.pending_settlements,
        "days": list(reversed(days)),
        "charts": [
            bar_chart("Daily active users", labels, [day.active_users for day in days]),
            bar_chart("Sign-ups", labels, [day.signups for day in days]),
            bar_chart("Bets placed", labels, [day.bets for day in days]),
            bar_chart("Credits wagered", labels, [day.wagered for day in days]),
        ],
        "overview_days": OVERVIEW_DAYS,
        "first_day": days[0].day,
        "last_day": found.today.day,
    }
    return TemplateResponse(request, "admin/observability/overview.html", context)
