from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils import timezone
from django.utils.text import slugify

from thisthat.admin import number_column, text_column, time_column
from thisthat.errors import DomainError, ValidationFailed
from thisthat.money import TRADABLE_ODDS_MAX, TRADABLE_ODDS_MIN

from .dependents import markets_traded
from .maker import LIQUIDITY_MAX, LIQUIDITY_MIN, worst_case_loss
from .models import SETTLED_STATUSES, Market, MarketStatus, MarketType, OddsSource
from .odds import SUM_TOLERANCE
from .services import (
    MAKER_FIELDS,
    STAFF_EDITABLE_FIELDS,
    market_create_credits,
    market_update_credits,
    validate_maker_liquidity,
    validate_staff_expiry,
    validate_staff_odds,
)

ODDS_RULE = (
    f"Each side between {TRADABLE_ODDS_MIN} and {TRADABLE_ODDS_MAX}; THIS + THAT must add up to 1 "
    f"(± {SUM_TOLERANCE}), e.g. 0.65 and 0.35. A bet of 100 at 0.65 pays 153.85 if it wins."
)


def _worst_case(liquidity, this_odds, that_odds) -> str:
    loss = worst_case_loss(liquidity=liquidity, this_odds=this_odds / (this_odds + that_odds))
    return f"{loss:,} credits (liquidity {liquidity:,}, starting odds {this_odds}/{that_odds})"


def category_choices() -> list[tuple[str, str]]:
    """Every category a market has, one name per slug (the first alphabetically), A to Z."""
    names = Market.objects.values("category_slug").annotate(name=Min("category")).values_list("name", flat=True)
    return [("", "---------"), *((name, name) for name in sorted(names, key=str.casefold))]


class CreditsMarketForm(forms.ModelForm):
    """Staff-run markets: staff set the starting odds of both sides (each 0.01 to 0.99, adding up to
    1 ± 0.02) and the market maker's liquidity (from the first bet on, the market maker sets the odds),
    an expiry in the future (or none), and a category from the list or, separately, a new one."""

    maker_liquidity = forms.DecimalField(
        label="Market maker liquidity (b)",
        min_value=LIQUIDITY_MIN,
        max_value=LIQUIDITY_MAX,
        decimal_places=2,
        help_text="How much the odds resist a bet: at b = 1,000 a 100-credit bet moves 50/50 odds about 5 points. "
        "The house can lose at most b·ln(0.99 / the lower starting odds): 683.10 credits at b = 1,000 from "
        "50/50, 2,292.54 from 10/90. Fixed once the market has bets.",
    )
    image_url = forms.URLField(max_length=1000, required=False, assume_scheme="https", label="Image URL")
    category = forms.ChoiceField(
        required=False, help_text="Choose one, or leave this empty and name a new category below."
    )
    new_category = forms.CharField(
        max_length=100,
        required=False,
        label="New category",
        help_text="Only for a category not in the list above (a name differing only in case or spacing is "
        "taken as the existing one).",
    )

    class Meta:
        model = Market
        fields = STAFF_EDITABLE_FIELDS
        widgets = {"title": forms.TextInput(attrs={"class": "vTextField", "style": "width: min(100%, 48em)"})}
        labels = {
            "this_option": "THIS means",
            "that_option": "THAT means",
            "this_odds": "THIS odds",
            "that_odds": "THAT odds",
            "expires_at": "Expires at (UTC)",
        }
        help_texts = {
            "title": "The question, e.g. “Will the office dog win the race?”",
            "this_option": "The outcome a THIS bet backs, e.g. Yes.",
            "that_option": "The outcome a THAT bet backs, e.g. No.",
            "this_odds": "The price of THIS, e.g. 0.65 (the rule is above).",
            "that_odds": "The price of THAT, e.g. 0.35: THIS + THAT = 1 ± 0.02.",
            "expires_at": "Times are UTC (the server's time zone). Bets close at this moment; it must be in the "
            "future. Leave it empty for a market that stays open until it is resolved.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.initial.get("maker_liquidity") is None:
            self.initial["maker_liquidity"] = settings.MARKET_MAKER_DEFAULT_LIQUIDITY
        if not self.instance._state.adding and markets_traded([self.instance.pk]):
            for name in MAKER_FIELDS:  # the market maker owns them now (shown read-only by the admin)
                self.fields.pop(name, None)
        choices = category_choices()
        current = "" if self.instance._state.adding else self.instance.category
        if current and current not in dict(choices):
            choices.append((current, current))
        self.fields["category"].choices = choices
        self.fields["category"].initial = current

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if self.instance._state.adding or "expires_at" in self.changed_data:
            try:
                validate_staff_expiry(expires_at, now=timezone.now())
            except ValidationFailed as exc:
                raise ValidationError(exc.message) from exc
        return expires_at

    def clean(self):
        cleaned = super().clean()
        self._clean_category(cleaned)
        if "this_odds" not in self.fields:  # a traded market: its odds are the market maker's
            return cleaned
        this_odds, that_odds = cleaned.get("this_odds"), cleaned.get("that_odds")
        if this_odds is None or that_odds is None:
            raise ValidationError("Set both THIS and THAT odds.")
        try:
            validate_staff_odds(this_odds, that_odds)
            if cleaned.get("maker_liquidity") is not None:
                validate_maker_liquidity(cleaned["maker_liquidity"])
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc
        # What staff changed on the form, not what trades moved since it was shown.
        changed = [name for name in MAKER_FIELDS if name in self.changed_data]
        if not self.instance._state.adding and changed and markets_traded([self.instance.pk]):
            raise ValidationError(
                "This market has bets: its odds now come from its market maker, and its liquidity is fixed."
            )
        return cleaned

    def _clean_category(self, cleaned: dict) -> None:
        chosen, new = cleaned.get("category") or "", (cleaned.get("new_category") or "").strip()
        if chosen and new:
            self.add_error("new_category", "Choose a category from the list or name a new one, not both.")
        elif not chosen and not new:
            self.add_error("category", "Choose a category, or name a new one below.")
        elif new:
            existing = {slugify(name): name for name, _ in self.fields["category"].choices if name}
            cleaned["category"] = existing.get(slugify(new), new)


# Read-only fields a staff market's page shows first (the rest are folded away).
_STATUS_FIELDS = ["shown_status", "resolution", "resolution_source", "resolved_by", "resolved_at", "settled_at"]


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


class StatusFilter(admin.SimpleListFilter):
    """Status as the API shows it: an open market past its expiry is closed."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return MarketStatus.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.with_status_at(self.value(), timezone.now())
        return queryset


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = [
        text_column("title", "Title", chars=70),
        "shown_status",
        "shown_type",
        "category",
        number_column("this_odds", "THIS", kind="odds"),
        number_column("that_odds", "THAT", kind="odds"),
        number_column("volume", "Volume", kind="whole"),
        time_column("expires_at", "Expires"),
    ]
    list_filter = [StatusFilter, "market_type", "category", IdentityConflictFilter, UpstreamResultConflictFilter]
    search_fields = ["title", "slug", "polymarket_id"]
    ordering = ["-created_at"]
    list_per_page = 50
    show_full_result_count = False
    extra_readonly_fields: tuple[str, ...] = ()  # read-only displays that apps built on markets add
    maker_readonly_fields = ("house_worst_case_loss",)

    @admin.display(description="Status", ordering="status")
    def shown_status(self, market: Market) -> str:
        status = market.current_status
        if status != market.status:
            return "Closed (expired)"
        return MarketStatus(status).label

    @admin.display(description="Type", ordering="market_type")
    def shown_type(self, market: Market) -> str:
        return market.get_market_type_display()

    def _is_staff_form(self, obj) -> bool:
        return obj is None or obj.market_type == MarketType.CREDITS

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._is_staff_form(obj):
            kwargs["form"] = CreditsMarketForm
            kwargs["fields"] = [*STAFF_EDITABLE_FIELDS, "new_category"]
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if not self._is_staff_form(obj):
            return super().get_fieldsets(request, obj)
        fieldsets = [
            (None, {"fields": ["title", "description"]}),
            (
                "THIS and THAT",
                {
                    "fields": [("this_option", "this_odds"), ("that_option", "that_odds"), "maker_liquidity"],
                    "description": "What each side means, and its starting odds. "
                    + ODDS_RULE
                    + " From the first bet on, the market maker moves the odds.",
                },
            ),
            ("Listing", {"fields": ["category", "new_category", "expires_at", "image_url"]}),
        ]
        readonly = self.get_readonly_fields(request, obj)
        if readonly:
            shown_first = [*_STATUS_FIELDS, *self.maker_readonly_fields, *self.extra_readonly_fields]
            status = [name for name in shown_first if name in readonly]
            fieldsets.append(("Status", {"fields": status}))
            rest = [name for name in readonly if name not in status]
            fieldsets.append(("Record", {"fields": rest, "classes": ["collapse"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        all_fields = [field.name for field in Market._meta.fields] + ["shown_status", *self.extra_readonly_fields]
        if obj.market_type == MarketType.CREDITS:
            # Once traded, the market maker owns the odds and the liquidity is fixed: shown, not editable.
            frozen = set(MAKER_FIELDS) if markets_traded([obj.pk]) else set()
            editable = set(STAFF_EDITABLE_FIELDS) - frozen
            return [*self.maker_readonly_fields, *(name for name in all_fields if name not in editable)]
        return all_fields  # Polymarket markets mirror upstream; ingestion keeps them current

    def save_model(self, request, obj, form, change):
        editable = [name for name in STAFF_EDITABLE_FIELDS if name in form.cleaned_data]
        try:
            if change:  # only what staff changed: a trade may have moved the odds meanwhile
                changes = {name: form.cleaned_data[name] for name in editable if name in form.changed_data}
                market = market_update_credits(market_id=obj.pk, changes=changes)
            else:
                market = market_create_credits(**{name: form.cleaned_data[name] for name in editable})
                obj.pk = market.pk
        except DomainError as exc:  # e.g. the first bet landed after the form was checked
            self.message_user(request, f"{obj.title}: not saved: {exc.message}", messages.ERROR)
            return
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
