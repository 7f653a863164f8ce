from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.urls import reverse
from django.utils.html import format_html

from .models import User


class UserAdminChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        # Stored lower-case like registration does, or the user could no longer log in.
        return self.cleaned_data["email"].strip().lower()


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff look users up and manage access; credits move only through the ledger."""

    form = UserAdminChangeForm

    list_display = [
        "username",
        "email",
        "credit_balance",
        "total_volume",
        "overall_pnl",
        "is_staff",
        "is_active",
        "suspended_at",
        "created_at",
    ]
    list_filter = ["is_staff", "is_active", "is_superuser", ("suspended_at", admin.EmptyFieldListFilter)]
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
        "referral_pending",
        "suspended_at",
        "suspension_reason",
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
        (
            "Rewards and referrals",
            {"fields": ["daily_streak", "last_daily_reward_at", "referral_code", "referred_by", "referral_pending"]},
        ),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        # Suspended and reinstated from the review queue (abuse), with the reason and an audit row.
        ("Suspension", {"fields": ["suspended_at", "suspension_reason"]}),
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
