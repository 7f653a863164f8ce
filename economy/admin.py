from django.contrib import admin

from .models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger is written by services only."""

    list_display = [
        "created_at",
        "user",
        "kind",
        "amount",
        "balance_after",
        "reference_id",
        "description",
        "created_by",
    ]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "user__email", "reference_id"]
    list_select_related = ["user", "created_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
