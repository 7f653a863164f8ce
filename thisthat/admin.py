import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.text import Truncator

from .errors import RateLimited, RetryLater
from .http import client_address
from .throttling import rate_limit_hit, retry_after_seconds

# --- list columns that fit a 1,400 px screen -------------------------------------------------------
# Columns made here carry a suffix in their name (and so in their CSS class) that
# static/thisthat/admin.css aligns: numbers to the right, dates and ids on one line.
EMPTY = "-"  # what the admin shows for an empty value


def credits_text(value: Decimal | None) -> str:
    """Credits as the admin shows them everywhere: thousands separators, two decimals."""
    return EMPTY if value is None else f"{value:,.2f}"


def odds_text(value: Decimal | None) -> str:
    """Odds with their significant decimals (two at least): 0.65, 0.6345."""
    if value is None:
        return EMPTY
    text = f"{value:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.partition(".")[2]))


def _column(name: str, description: str, ordering: str | None, render: Callable[[Any], Any]) -> Callable:
    column = admin.display(description=description, ordering=ordering)(render)
    column.__name__ = name
    return column


def number_column(field: str, description: str, *, kind: str = "credits") -> Callable:
    """A right-aligned number: credits (1,234.50), odds (0.65) or a whole amount (1,234)."""
    text = {"credits": credits_text, "odds": odds_text, "whole": lambda value: f"{value:,.0f}"}[kind]
    return _column(f"{field}__number", description, field, lambda obj: text(getattr(obj, field)))


def time_column(field: str, description: str) -> Callable:
    """A date and time in UTC on one line: 2026-12-01 18:20."""

    def render(obj) -> str:
        moment: datetime | None = getattr(obj, field)
        return EMPTY if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")

    return _column(f"{field}__time", f"{description} (UTC)", field, render)


def text_column(field: str, description: str, *, chars: int = 60) -> Callable:
    """Long text cut to `chars`, the whole of it on hover."""

    def render(obj) -> str:
        value = str(getattr(obj, field) or "")
        return format_html('<span title="{}">{}</span>', value, Truncator(value).chars(chars))

    return _column(f"{field}__text", description, field, render)


def short_id_column(description: str = "ID") -> Callable:
    """The first 8 characters of a UUID primary key, the whole id on hover."""

    def render(obj) -> str:
        return format_html('<span title="{}">{}</span>', obj.pk, str(obj.pk)[:8])

    return _column("pk__id", description, "pk", render)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: staff can look, never add, edit or delete."""

    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AdminLoginForm(AdminAuthenticationForm):
    """The staff sign-in, limited like the API login (scope `admin_login`): every attempt counts
    against the client address and against the account it names, in the shared cache, before the
    password is checked — so guessing from many addresses still stops at the account's limit. When
    the cache cannot count, sign-in is refused (fail closed)."""

    refusal: RetryLater | None = None

    def clean(self):
        if settings.RATE_LIMIT_ENABLED:
            try:
                self._count_attempt()
            except RetryLater as exc:
                self.refusal = exc
                raise ValidationError(self._explain(exc), code="throttled") from exc
        return super().clean()

    def _count_attempt(self) -> None:
        idents = [f"ip:{client_address(self.request)}"]
        account = (self.cleaned_data.get("username") or "").strip().lower()
        if account:  # hashed: the key stays short and the cache holds no addresses
            idents.append(f"account:{hashlib.sha256(account.encode()).hexdigest()[:32]}")
        waits = [hit.wait for hit in (rate_limit_hit("admin_login", ident) for ident in idents) if not hit.allowed]
        if waits:
            raise RateLimited(retry_after=retry_after_seconds(max(waits)))

    @staticmethod
    def _explain(exc: RetryLater) -> str:
        if isinstance(exc, RateLimited):
            minutes = math.ceil(exc.retry_after / 60)
            return f"Too many sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        return "Sign-in is unavailable right now because attempts cannot be counted. Try again in a minute."


class ThisthatAdminSite(admin.AdminSite):
    """The admin (installed through thisthat.apps.ThisthatAdminConfig) with a rate-limited login.
    "View site" opens the API docs: there is no other site."""

    login_form = AdminLoginForm
    site_header = "THISTHAT administration"
    site_title = "THISTHAT admin"
    index_title = "Markets, bets, users and credits"
    site_url = "/api/docs/"
    # The app list is one click away (Home, breadcrumbs); the lists need the 280 px it takes.
    enable_nav_sidebar = False

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        refusal = getattr(form, "refusal", None)
        if refusal is not None:  # the page shows the message; the status tells scripts and monitors
            response.status_code = refusal.status
            for name, value in refusal.headers().items():
                response[name] = value
        return response
