from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from thisthat.errors import ValidationFailed

from .dependents import markets_traded
from .maker import LIQUIDITY_MAX, LIQUIDITY_MIN, worst_case_loss
from .models import SETTLED_STATUSES, Market, MarketType, OddsSource
from .services import (
    MAKER_FIELDS,
    STAFF_EDITABLE_FIELDS,
    market_create_credits,
    market_update_credits,
    validate_maker_liquidity,
    validate_staff_odds,
)


def _worst_case(liquidity, this_odds, that_odds) -> str:
    loss = worst_case_loss(liquidity=liquidity, this_odds=this_odds / (this_odds + that_odds))
    return f"{loss:,} credits (liquidity {liquidity:,}, starting odds {this_odds}/{that_odds})"


class CreditsMarketForm(forms.ModelForm):
    """Staff-run markets: staff set the starting odds of both sides (each 0.01 to 0.99, adding up to
    1 ± 0.02) and the market maker's liquidity; from the first bet on, the market maker sets the odds."""

    image_url = forms.URLField(max_length=1000, required=False, assume_scheme="https")
    maker_liquidity = forms.DecimalField(
        label="Market maker liquidity (b)",
        min_value=LIQUIDITY_MIN,
        max_value=LIQUIDITY_MAX,
        decimal_places=2,
        help_text="How much the odds resist a bet: at b = 1,000 a 100-credit bet moves 50/50 odds about 5 points. "
        "The house can lose at most b·ln(0.99 / the lower starting odds): 683.10 credits at b = 1,000 from "
        "50/50, 2,292.54 from 10/90. Fixed once the market has bets.",
    )

    class Meta:
        model = Market
        fields = STAFF_EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.initial.get("maker_liquidity") is None:
            self.initial["maker_liquidity"] = settings.MARKET_MAKER_DEFAULT_LIQUIDITY

    def clean(self):
        cleaned = super().clean()
        this_odds, that_odds = cleaned.get("this_odds"), cleaned.get("that_odds")
        if this_odds is None or that_odds is None:
            raise ValidationError("Set both THIS and THAT odds.")
        try:
            validate_staff_odds(this_odds, that_odds)
            if cleaned.get("maker_liquidity") is not None:
                validate_maker_liquidity(cleaned["maker_liquidity"])
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc
        changed = [name for name in MAKER_FIELDS if name in cleaned and cleaned[name] != getattr(self.instance, name)]
        if not self.instance._state.adding and changed and markets_traded([self.instance.pk]):
            raise ValidationError(
                "This market has bets: its odds now come from its market maker, and its liquidity is fixed."
            )
        return cleaned


class UpstreamResultConflictFilter(admin.SimpleListFilter):
    """Settled Polymarket markets whose final result upstream now differs from ours: the poller never
    unresolves; staff review and correct them (re-resolve)."""

    title = "upstream result differs"
    parameter_name = "result_conflict"

    def lookups(self, request, model_admin):
        return [("yes", "Yes: review")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(upstream_result_conflict__isnull=False)
        return queryset


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
    list_filter = ["status", "market_type", "category", IdentityConflictFilter, UpstreamResultConflictFilter]
    search_fields = ["title", "slug", "polymarket_id"]
    ordering = ["-created_at"]
    list_per_page = 50
    show_full_result_count = False
    extra_readonly_fields: tuple[str, ...] = ()  # read-only displays that apps built on markets add
    maker_readonly_fields = ("house_worst_case_loss",)

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
        all_fields = [field.name for field in Market._meta.fields] + list(self.extra_readonly_fields)
        if obj.market_type == MarketType.CREDITS:
            return [*self.maker_readonly_fields, *(name for name in all_fields if name not in STAFF_EDITABLE_FIELDS)]
        return all_fields  # Polymarket markets mirror upstream; ingestion keeps them current

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in STAFF_EDITABLE_FIELDS}
        if change:
            market = market_update_credits(market_id=obj.pk, changes=data)
        else:
            market = market_create_credits(**data)
            obj.pk = market.pk
        worst = _worst_case(market.maker_liquidity, *self._starting_odds(market))
        self.message_user(request, f"{market.title}: the house can lose at most {worst}.", messages.INFO)

    @staticmethod
    def _starting_odds(market: Market) -> tuple:
        start = market.odds_points.filter(source=OddsSource.STAFF).order_by("-recorded_at", "-id").first()
        return (start.this_odds, start.that_odds) if start else (market.this_odds, market.that_odds)

    @admin.display(description="House's worst-case loss")
    def house_worst_case_loss(self, obj: Market) -> str:
        return _worst_case(obj.maker_liquidity, *self._starting_odds(obj)) if obj.has_maker else "-"

    def has_change_permission(self, request, obj=None):
        # Polymarket markets mirror upstream and settled markets are history: staff may look, not edit.
        editable = obj is None or (obj.market_type == MarketType.CREDITS and obj.status not in SETTLED_STATUSES)
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # bets and the ledger refer to markets
