from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from betting.selectors import SideTotals, pending_totals_by_market, resolution_previews
from betting.services import market_resolve
from thisthat.errors import ValidationFailed

from .errors import MarketClosed
from .models import SETTLED_STATUSES, Market, MarketType, Resolution, ResolutionSource, Side
from .services import STAFF_EDITABLE_FIELDS, market_create_credits, market_update_credits, validate_staff_odds


class CreditsMarketForm(forms.ModelForm):
    """Staff-run markets: staff set both sides' odds (each 0.01 to 0.99, adding up to 1 ± 0.02)."""

    image_url = forms.URLField(max_length=1000, required=False, assume_scheme="https")

    class Meta:
        model = Market
        fields = STAFF_EDITABLE_FIELDS

    def clean(self):
        cleaned = super().clean()
        this_odds, that_odds = cleaned.get("this_odds"), cleaned.get("that_odds")
        if this_odds is None or that_odds is None:
            raise ValidationError("Set both THIS and THAT odds.")
        try:
            validate_staff_odds(this_odds, that_odds)
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc
        return cleaned


def _resolve_action(outcome: str, label: str):
    def action(modeladmin: "MarketAdmin", request, queryset):
        return modeladmin.resolve(request, queryset, outcome=outcome, label=label)

    action.__name__ = f"resolve_{outcome}"
    return admin.action(description=f"Resolve as {label}", permissions=["change"])(action)


class IdentityConflictFilter(admin.SimpleListFilter):
    """Traded markets whose outcomes upstream changed: ingestion kept ours; staff should review."""

    title = "upstream changed outcomes"
    parameter_name = "identity_conflict"

    def lookups(self, request, model_admin):
        return [("yes", "Yes: review")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(upstream_identity_conflict__isnull=False)
        return queryset


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = ["title", "market_type", "status", "category", "this_odds", "that_odds", "volume", "expires_at"]
    list_filter = ["status", "market_type", "category", IdentityConflictFilter]
    search_fields = ["title", "slug", "polymarket_id"]
    ordering = ["-created_at"]
    list_per_page = 50
    show_full_result_count = False
    actions = [
        _resolve_action(Resolution.THIS, "THIS"),
        _resolve_action(Resolution.THAT, "THAT"),
        _resolve_action(Resolution.INVALID, "INVALID (refund every bet)"),
    ]

    def resolve(self, request, queryset, *, outcome: str, label: str):
        """Show what resolving would settle; resolve through the settlement service once confirmed."""
        markets = list(queryset.order_by("title"))
        if request.POST.get("confirm") != "yes":
            plans = resolution_previews(markets=markets, outcome=outcome)
            context = {
                **self.admin_site.each_context(request),
                "title": f"Resolve as {label}?",
                "opts": self.model._meta,
                "plans": plans,
                "outcome_label": label,
                "total_pending": sum(plan.pending for plan in plans),
                "total_credits": sum((plan.credits for plan in plans), Decimal(0)),
                "queryset": markets,
                "action": f"resolve_{outcome}",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/markets/market/resolve_confirmation.html", context)
        for market in markets:
            try:
                market_resolve(
                    market_id=market.pk, outcome=outcome, source=ResolutionSource.ADMIN, resolved_by_id=request.user.pk
                )
            except MarketClosed as exc:
                self.message_user(request, f"{market.title}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{market.title}: resolved as {label}; its bets are being settled.")
        return None

    @admin.display(description="Pending bets by side")
    def pending_bets(self, obj: Market) -> str:
        sides = pending_totals_by_market(market_ids=[obj.pk])[obj.pk]
        rows = [
            (label, totals.bets, totals.staked, totals.potential_payout)
            for side, label in Side.choices
            for totals in [sides.get(side, SideTotals())]
        ]
        return format_html_join("", "<div>{}: {} bets, {} staked, {} if it wins</div>", rows)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None or obj.market_type == MarketType.CREDITS:
            kwargs["form"] = CreditsMarketForm
            kwargs["fields"] = STAFF_EDITABLE_FIELDS
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None or obj.market_type == MarketType.CREDITS:
            return [*STAFF_EDITABLE_FIELDS, *self.get_readonly_fields(request, obj)]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        all_fields = [field.name for field in Market._meta.fields] + ["pending_bets"]
        if obj.market_type == MarketType.CREDITS:
            return [name for name in all_fields if name not in STAFF_EDITABLE_FIELDS]
        return all_fields  # Polymarket markets mirror upstream; ingestion keeps them current

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in STAFF_EDITABLE_FIELDS}
        if change:
            market_update_credits(market_id=obj.pk, changes=data)
        else:
            obj.pk = market_create_credits(**data).pk

    def has_change_permission(self, request, obj=None):
        # Polymarket markets mirror upstream and settled markets are history: staff may look, not edit.
        editable = obj is None or (obj.market_type == MarketType.CREDITS and obj.status not in SETTLED_STATUSES)
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # bets and the ledger refer to markets
