import hashlib
import math

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from .errors import RateLimited, RetryLater
from .http import client_address
from .throttling import rate_limit_hit, retry_after_seconds


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

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        refusal = getattr(form, "refusal", None)
        if refusal is not None:  # the page shows the message; the status tells scripts and monitors
            response.status_code = refusal.status
            for name, value in refusal.headers().items():
                response[name] = value
        return response
