from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST

from thisthat.errors import envelope
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
        status, code, message = refused
        response = JsonResponse(envelope(message, code, status), status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition.scrape(), content_type=CONTENT_TYPE_LATEST)


def overview(request):
    """The staff overview (admin): today's numbers, the last 30 days', and their daily charts."""
    now = timezone.now()
    today = now.astimezone(UTC).date()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    days = selectors.daily_series(first=today - timedelta(days=OVERVIEW_DAYS - 1), last=today)
    month = selectors.bet_totals(since=midnight - timedelta(days=OVERVIEW_DAYS - 1))
    labels = [day.day.isoformat() for day in days]
    context = {
        **admin.site.each_context(request),
        "title": "Overview",
        "today": days[-1],
        "month": {
            "signups": sum(day.signups for day in days),
            "active_users": selectors.active_users(since=midnight - timedelta(days=OVERVIEW_DAYS - 1)),
            "bets": month.bets,
            "wagered": month.wagered,
            "average_bet": month.average,
        },
        "open_markets": selectors.open_markets(now=now),
        "pending_settlements": selectors.pending_settlements(now=now),
        "days": list(reversed(days)),
        "charts": [
            bar_chart("Daily active users", labels, [day.active_users for day in days]),
            bar_chart("Sign-ups", labels, [day.signups for day in days]),
            bar_chart("Bets placed", labels, [day.bets for day in days]),
            bar_chart("Credits wagered", labels, [day.wagered for day in days]),
        ],
        "overview_days": OVERVIEW_DAYS,
        "first_day": days[0].day,
        "last_day": today,
    }
    return TemplateResponse(request, "admin/observability/overview.html", context)
