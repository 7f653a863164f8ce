from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from thisthat.errors import ValidationFailed

from .models import SETTLED_STATUSES, Market, MarketType
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
    extra_readonly_fields: tuple[str, ...] = ()  # read-only displays that apps built on markets add

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
