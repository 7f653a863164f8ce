from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: staff can look, never add, edit or delete."""

    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
