from django.contrib import admin

from thisthat.admin import ReadOnlyAdmin

from .models import Bet


@admin.register(Bet)
class BetAdmin(ReadOnlyAdmin):
    """Bets are history: staff can look and filter, never edit (settlement and cash-out own them)."""

    list_display = ["id", "user", "market", "side", "amount", "odds_at_bet", "potential_payout", "status", "placed_at"]
    list_filter = ["status", "side", "market__market_type", "placed_at"]
    search_fields = ["user__username", "user__email", "market__title", "=id"]
    list_select_related = ["user", "market"]
    raw_id_fields = ["user", "market"]
    date_hierarchy = "placed_at"
