"""Staff views of the economy (SPEC §8): read-only ledger, rewards and purchases; editable credit
packages; and the credit adjustment form, which posts through the ledger like everything else."""

from decimal import Decimal
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from thisthat.admin import ReadOnlyAdmin, number_column, text_column, time_column
from thisthat.errors import ValidationFailed

from . import services
from .errors import BalanceLimit, InsufficientBalance
from .models import CreditPackage, DailyReward, LedgerEntry, Purchase, Referral

ADJUST_PERMISSION = "economy.adjust_credits"


class UserLookupField(forms.CharField):
    """A user by id, username or email (case-insensitive); the lookup icon fills in the id."""

    def clean(self, value):
        value = super().clean(value).strip()
        users = get_user_model().objects
        try:
            match = Q(pk=UUID(value))
        except ValueError:
            match = Q(username__iexact=value) | Q(email__iexact=value)
        found = list(users.filter(match)[:2])
        if len(found) != 1:
            raise ValidationError("No user with this id, username or email.")
        return found[0]


class CreditAdjustmentForm(forms.Form):
    user = UserLookupField(label="User", help_text="User id, username or email.")
    amount = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        help_text="Signed: positive adds credits, negative removes them. At most 2 decimals.",
    )
    reason = forms.CharField(
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required. Stored on the ledger row and shown to the user in their transaction history.",
    )

    def __init__(self, *args, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        if admin_site is not None:
            rel = LedgerEntry._meta.get_field("user").remote_field
            self.fields["user"].widget = ForeignKeyRawIdWidget(rel, admin_site, attrs={"size": 40})

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise ValidationError("The amount must not be zero.")
        return amount


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Read-only: the ledger is written by services only. Adjustments go through the form."""

    change_list_template = "admin/economy/ledgerentry/change_list.html"
    list_display = [
        time_column("created_at", "Time"),
        "user",
        "kind",
        number_column("amount", "Amount"),
        number_column("balance_after", "Balance after"),
        "created_by",
        text_column("description", "Description", chars=50),
        "short_reference",
    ]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "user__email", "reference_id"]
    list_select_related = ["user", "created_by"]
    date_hierarchy = "created_at"

    @admin.display(description="Reference", ordering="reference_id")
    def short_reference(self, entry: LedgerEntry) -> str:
        """The bet, purchase or reward a row belongs to: 8 characters, the whole id on hover."""
        if entry.reference_id is None:
            return "-"
        return format_html('<span title="{}">{}</span>', entry.reference_id, str(entry.reference_id)[:8])

    def get_urls(self):
        adjust = path("adjust/", self.admin_site.admin_view(self.adjust_view), name="economy_credit_adjust")
        return [adjust, *super().get_urls()]

    def adjust_view(self, request):
        if not request.user.has_perm(ADJUST_PERMISSION):
            raise PermissionDenied
        if request.method == "POST":
            form = CreditAdjustmentForm(request.POST, admin_site=self.admin_site)
            if form.is_valid():
                user = form.cleaned_data["user"]
                entry = self._adjust(request, form)
                if entry is not None:
                    self.message_user(
                        request,
                        f"Adjusted {user.username}'s credits by {entry.amount:+,}; "
                        f"the balance is now {entry.balance_after:,}.",
                        messages.SUCCESS,
                    )
                    url = reverse("admin:economy_ledgerentry_changelist") + f"?user__id__exact={user.pk}"
                    return HttpResponseRedirect(url)
        else:
            form = CreditAdjustmentForm(initial={"user": request.GET.get("user", "")}, admin_site=self.admin_site)
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust credits",
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/economy/credit_adjust.html", context)

    def _adjust(self, request, form: CreditAdjustmentForm) -> LedgerEntry | None:
        user, amount = form.cleaned_data["user"], form.cleaned_data["amount"]
        try:
            return services.credit_adjust(
                user_id=user.pk, amount=amount, reason=form.cleaned_data["reason"], staff_id=request.user.pk
            )
        except InsufficientBalance:
            balance = get_user_model().objects.values_list("credit_balance", flat=True).get(pk=user.pk)
            form.add_error("amount", f"This would make {user.username}'s balance negative: the balance is {balance:,}.")
        except BalanceLimit as exc:
            form.add_error(
                "amount",
                f"This would lift {user.username}'s balance over the maximum of "
                f"{exc.details['maxBalance']:,}: the balance is {exc.details['balance']:,}.",
            )
        except ValidationFailed as exc:
            for field, errors in exc.details.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        return None

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_adjust_credits": request.user.has_perm(ADJUST_PERMISSION)}
        return super().changelist_view(request, extra_context)


@admin.register(DailyReward)
class DailyRewardAdmin(ReadOnlyAdmin):
    list_display = [
        time_column("claimed_at", "Claimed"),
        "user",
        "streak_day",
        number_column("credits_awarded", "Credits"),
        "claimed_on",
    ]
    list_filter = ["claimed_on", "streak_day"]
    search_fields = ["user__username", "user__email", "id"]
    list_select_related = ["user"]
    date_hierarchy = "claimed_at"


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = [
        time_column("created_at", "Created"),
        "user",
        "package",
        number_column("credits", "Credits"),
        number_column("price_usd", "Price (USD)"),
        "provider",
        "status",
        time_column("completed_at", "Completed"),
    ]
    list_filter = ["status", "provider", "package", "created_at"]
    search_fields = ["user__username", "user__email", "id", "provider_reference"]
    list_select_related = ["user", "package"]
    date_hierarchy = "created_at"


@admin.register(CreditPackage)
class CreditPackageAdmin(admin.ModelAdmin):
    """Editable: staff set what is on sale. Packages are retired (not active), never deleted."""

    list_display = ["name", "credits", "price_usd", "is_active", "sort_order", "purchase_count"]
    list_editable = ["is_active", "sort_order"]
    list_filter = ["is_active"]
    ordering = ["sort_order", "id"]

    @admin.display(description="Purchases")
    def purchase_count(self, package: CreditPackage) -> int:
        return package.purchases.count()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # purchases refer to packages: untick "active" to stop selling one


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    """Referrals and the referrer's bonus for each: pending until the referred user's first
    qualifying bet, then paid or withheld (with the reason)."""

    list_display = ["created_at", "referred", "referrer", "status", "bonus", "reason", "qualified_at", "decided_at"]
    list_filter = ["status", "reason", "created_at"]
    search_fields = ["referred__username", "referred__email", "referrer__username", "referrer__email"]
    list_select_related = ["referred", "referrer"]
    date_hierarchy = "created_at"
