from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from thisthat.admin import number_column, time_column
from thisthat.errors import DomainError

from .models import User, XAccount
from .selectors import profile_rank_annotations
from .services import users_set_active


class UserAdminChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean_email(self) -> str | None:
        # Stored lower-case like registration does, or the user could no longer log in; an account
        # made with X may have none, which is NULL (never "": that would collide with the next one).
        return (self.cleaned_data["email"] or "").strip().lower() or None


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff look users up and manage access; credits move only through the ledger. Accounts are
    never deleted (their bets and ledger rows are history): they are deactivated."""

    form = UserAdminChangeForm
    actions = ["deactivate", "reactivate"]

    def user_change_password(self, request, id, form_url=""):
        """The new password and the end of the user's sign-ins (accounts.signals) in one transaction:
        if the sign-ins cannot end (the revocation list is out of reach), the password stays as it
        was and staff are told why, instead of a changed password whose old tokens still pass."""
        try:
            with transaction.atomic():
                return super().user_change_password(request, id, form_url)
        except DomainError as exc:
            self.message_user(request, f"The password was not changed: {exc.message}", messages.ERROR)
            return HttpResponseRedirect(request.path)

    list_display = [
        "username",
        "email",
        number_column("credit_balance", "Balance"),
        number_column("total_volume", "Volume"),
        number_column("overall_pnl", "PnL"),
        "is_staff",
        "is_active",
        "suspended",
        time_column("created_at", "Joined"),
    ]
    list_filter = ["is_staff", "is_active", "is_superuser", ("suspended_at", admin.EmptyFieldListFilter)]
    search_fields = ["username", "email", "x_account__username"]
    ordering = ["-created_at"]
    readonly_fields = [
        "id",
        "is_active",  # changed only by the deactivate/reactivate actions, which end the user's sessions
        "credit_balance",
        "total_volume",
        "overall_pnl",
        "pnl_rank",
        "volume_rank",
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
        "x_account_link",
    ]
    fieldsets = [
        (None, {"fields": ["id", "username", "email", "password", "x_account_link"]}),
        (
            "Credits",
            {
                "fields": [
                    "credit_balance",
                    "ledger_link",
                    "credit_adjust_link",
                    "total_volume",
                    "overall_pnl",
                    "pnl_rank",
                    "volume_rank",
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

    def get_queryset(self, request) -> QuerySet[User]:
        return super().get_queryset(request).annotate(**profile_rank_annotations())

    @admin.display(description="Rank by PnL (all time)")
    def pnl_rank(self, user: User) -> int | str:
        return self.get_empty_value_display() if user.rank_by_pnl is None else user.rank_by_pnl

    @admin.display(description="Rank by volume (all time)")
    def volume_rank(self, user: User) -> int | str:
        return self.get_empty_value_display() if user.rank_by_volume is None else user.rank_by_volume

    @admin.display(description="Ledger")
    def ledger_link(self, user: User) -> str:
        url = reverse("admin:economy_ledgerentry_changelist") + f"?user__id__exact={user.pk}"
        return format_html('<a href="{}">View this user\'s ledger</a>', url)

    @admin.display(description="Adjust")
    def credit_adjust_link(self, user: User) -> str:
        url = reverse("admin:economy_credit_adjust") + f"?user={user.pk}"
        return format_html('<a href="{}">Adjust credits through the ledger</a>', url)

    @admin.display(description="X account")
    def x_account_link(self, user: User) -> str:
        account = XAccount.objects.filter(user=user).first()
        if account is None:
            return "—"
        url = reverse("admin:accounts_xaccount_change", args=[account.pk])
        return format_html('<a href="{}">@{}</a>', url, account.username)

    def has_add_permission(self, request) -> bool:
        # Accounts are created by registration (or `createsuperuser`) so the signup bonus is posted.
        return False

    @admin.display(description="Suspended", boolean=True, ordering="suspended_at")
    def suspended(self, user: User) -> bool:
        return user.suspended_at is not None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # bets and ledger rows refer to users: deactivate instead

    @admin.action(description="Deactivate the selected users (they can no longer log in)", permissions=["change"])
    def deactivate(self, request, queryset) -> None:
        ids = list(queryset.exclude(pk=request.user.pk).values_list("pk", flat=True))
        if len(ids) < queryset.count():
            self.message_user(request, "You cannot deactivate your own account; it was left active.", messages.WARNING)
        try:
            changed = users_set_active(user_ids=ids, active=False)
        except DomainError as exc:  # e.g. sessions cannot be ended while Redis is down: nothing changed
            self.message_user(request, f"Nobody was deactivated: {exc.message}", messages.ERROR)
            return
        self.message_user(request, f"Deactivated {changed} user{'s' if changed != 1 else ''}; their history is kept.")

    @admin.action(description="Reactivate the selected users", permissions=["change"])
    def reactivate(self, request, queryset) -> None:
        changed = users_set_active(user_ids=list(queryset.values_list("pk", flat=True)), active=True)
        self.message_user(request, f"Reactivated {changed} user{'s' if changed != 1 else ''}.")


@admin.register(XAccount)
class XAccountAdmin(admin.ModelAdmin):
    """Read-only: X writes these at sign-in. Deleting one unlinks X from its user (who then needs an
    email and password to sign in)."""

    list_display = ["username", "x_id", "user", "linked_at", "updated_at"]
    search_fields = ["username", "x_id", "user__username", "user__email"]
    ordering = ["-linked_at"]
    readonly_fields = ["user", "x_id", "username", "name", "avatar_url", "linked_at", "updated_at"]
    list_select_related = ["user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
