from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.urls import reverse
from django.utils.html import format_html

from thisthat.admin import number_column, time_column

from .models import User
from .services import users_set_active


class UserAdminChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        # Stored lower-case like registration does, or the user could no longer log in.
        return self.cleaned_data["email"].strip().lower()


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff look users up and manage access; credits move only through the ledger. Accounts are
    never deleted (their bets and ledger rows are history): they are deactivated."""

    form = UserAdminChangeForm
    actions = ["deactivate", "reactivate"]

    list_display = [
        "username",
        "email",
        number_column("credit_balance", "Balance"),
        number_column("total_volume", "Volume"),
        number_column("overall_pnl", "PnL"),
        "is_staff",
        "is_active",
        time_column("created_at", "Joined"),
    ]
    list_filter = ["is_staff", "is_active", "is_superuser"]
    search_fields = ["username", "email"]
    ordering = ["-created_at"]
    readonly_fields = [
        "id",
        "credit_balance",
        "total_volume",
        "overall_pnl",
        "rank_by_pnl",
        "rank_by_volume",
        "referral_code",
        "referred_by",
        "daily_streak",
        "last_daily_reward_at",
        "created_at",
        "last_login",
        "ledger_link",
        "credit_adjust_link",
    ]
    fieldsets = [
        (None, {"fields": ["id", "username", "email", "password"]}),
        (
            "Credits",
            {
                "fields": [
                    "credit_balance",
                    "ledger_link",
                    "credit_adjust_link",
                    "total_volume",
                    "overall_pnl",
                    "rank_by_pnl",
                    "rank_by_volume",
                ]
            },
        ),
        ("Rewards and referrals", {"fields": ["daily_streak", "last_daily_reward_at", "referral_code", "referred_by"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["created_at", "last_login"]}),
    ]

    @admin.display(description="Ledger")
    def ledger_link(self, user: User) -> str:
        url = reverse("admin:economy_ledgerentry_changelist") + f"?user__id__exact={user.pk}"
        return format_html('<a href="{}">View this user\'s ledger</a>', url)

    @admin.display(description="Adjust")
    def credit_adjust_link(self, user: User) -> str:
        url = reverse("admin:economy_credit_adjust") + f"?user={user.pk}"
        return format_html('<a href="{}">Adjust credits through the ledger</a>', url)

    def has_add_permission(self, request) -> bool:
        # Accounts are created by registration (or `createsuperuser`) so the signup bonus is posted.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # bets and ledger rows refer to users: deactivate instead

    @admin.action(description="Deactivate the selected users (they can no longer log in)", permissions=["change"])
    def deactivate(self, request, queryset) -> None:
        ids = list(queryset.exclude(pk=request.user.pk).values_list("pk", flat=True))
        if len(ids) < queryset.count():
            self.message_user(request, "You cannot deactivate your own account; it was left active.", messages.WARNING)
        changed = users_set_active(user_ids=ids, active=False)
        self.message_user(request, f"Deactivated {changed} user{'s' if changed != 1 else ''}; their history is kept.")

    @admin.action(description="Reactivate the selected users", permissions=["change"])
    def reactivate(self, request, queryset) -> None:
        changed = users_set_active(user_ids=list(queryset.values_list("pk", flat=True)), active=True)
        self.message_user(request, f"Reactivated {changed} user{'s' if changed != 1 else ''}.")
