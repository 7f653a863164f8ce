from django.contrib import admin

from thisthat.admin import ReadOnlyAdmin

from .models import Activity


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    """What each account did from which address and device (kept ACTIVITY_RETENTION_DAYS)."""

    list_display = ["created_at", "kind", "user", "address", "device_id", "reference_id"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "user__email", "=address", "=device_id", "=reference_id"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
