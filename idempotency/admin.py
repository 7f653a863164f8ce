from django.contrib import admin

from thisthat.admin import ReadOnlyAdmin, time_column

from .models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = [time_column("created_at", "Created"), "user", "scope", "key", "response_status"]
    list_filter = ["scope", "response_status", "created_at"]
    search_fields = ["user__username", "user__email", "key"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
