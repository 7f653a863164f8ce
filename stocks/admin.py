"""Staff views of the virtual stocks (README "Virtual stocks"): list and edit stocks through the services,
halt and resume trading, and read holders and trades (read-only: only trades write them)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from thisthat.admin import ReadOnlyAdmin
from thisthat.errors import ValidationFailed

from .models import Holding, Stock, StockTrade
from .selectors import price_shown, stock_has_trades
from .services import CURVE_FIELDS, STAFF_FIELDS, stock_create, stock_update, stocks_set_trading, validate_stock


class StockForm(forms.ModelForm):
    image_url = forms.URLField(max_length=1000, required=False, assume_scheme="https")

    class Meta:
        model = Stock
        fields = STAFF_FIELDS

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned.get(name, getattr(self.instance, name)) for name in ("symbol", *CURVE_FIELDS)}
        if None in fields.values():
            return cleaned
        fields["symbol"] = fields["symbol"].strip().upper()
        cleaned["symbol"] = fields["symbol"]
        try:
            validate_stock(**fields)
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc
        return cleaned


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    form = StockForm
    list_display = ["symbol", "name", "current_price", "supply", "holders", "reserve", "trading_enabled"]
    list_filter = ["trading_enabled", "curve"]
    search_fields = ["symbol", "name"]
    actions = ["halt_trading", "resume_trading"]
    readonly_fields = ["current_price", "supply", "reserve", "house_take", "trades_count", "created_at", "records"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(holders_count=Count("holdings", filter=Q(holdings__shares__gt=0)))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and stock_has_trades(stock_id=obj.pk):
            return ["symbol", *CURVE_FIELDS, *self.readonly_fields]  # the reserve is this curve's integral
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        return [*STAFF_FIELDS, *self.readonly_fields] if obj is not None else list(STAFF_FIELDS)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in STAFF_FIELDS if name in form.cleaned_data}
        if change:
            stock_update(
                stock_id=obj.pk, changes={name: value for name, value in data.items() if name in form.changed_data}
            )
        else:
            obj.pk = stock_create(**data).pk

    @admin.display(description="price")
    def current_price(self, obj: Stock) -> str:
        return f"{price_shown(obj.price):,}"

    @admin.display(description="holders", ordering="holders_count")
    def holders(self, obj: Stock) -> int:
        return obj.holders_count

    @admin.display(description="holders and trades")
    def records(self, obj: Stock) -> str:
        holders = reverse("admin:stocks_holding_changelist") + f"?stock__id__exact={obj.pk}&held=yes"
        trades = reverse("admin:stocks_stocktrade_changelist") + f"?stock__id__exact={obj.pk}"
        return format_html('<a href="{}">Holders</a> · <a href="{}">Trades</a>', holders, trades)

    @admin.action(description="Halt trading in the selected stocks")
    def halt_trading(self, request, queryset):
        changed = stocks_set_trading(stock_ids=list(queryset.values_list("pk", flat=True)), enabled=False)
        self.message_user(request, f"Halted {changed} stock(s).", messages.SUCCESS)

    @admin.action(description="Resume trading in the selected stocks")
    def resume_trading(self, request, queryset):
        changed = stocks_set_trading(stock_ids=list(queryset.values_list("pk", flat=True)), enabled=True)
        self.message_user(request, f"Resumed {changed} stock(s).", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False  # trades, holdings and the ledger refer to stocks


class HeldFilter(admin.SimpleListFilter):
    title = "held"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", "Holding shares")]

    def queryset(self, request, queryset):
        return queryset.filter(shares__gt=0) if self.value() == "yes" else queryset


@admin.register(Holding)
class HoldingAdmin(ReadOnlyAdmin):
    list_display = ["stock", "user", "shares", "cost_basis", "updated_at"]
    list_filter = [HeldFilter, "stock"]
    search_fields = ["user__username", "user__email", "stock__symbol"]
    list_select_related = ["stock", "user"]
    ordering = ["stock__symbol", "-shares"]


@admin.register(StockTrade)
class StockTradeAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "stock",
        "user",
        "side",
        "shares",
        "credits",
        "fee",
        "price_after",
        "supply_after",
        "realized_pnl",
    ]
    list_filter = ["side", "stock", "created_at"]
    search_fields = ["user__username", "user__email", "stock__symbol", "id"]
    list_select_related = ["stock", "user"]
    date_hierarchy = "created_at"
