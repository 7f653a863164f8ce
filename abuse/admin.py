"""The review queue: flags with filters and the actions dismiss, suspend, reinstate and claw back
(each asks for a reason, and records it with the staff member); the user admin gains suspend and
reinstate; the audit trail is a read-only list."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Value, When
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin import UserAdmin
from economy.models import LedgerKind
from economy.services import CLAWBACK_KINDS
from thisthat.admin import ReadOnlyAdmin

from . import services
from .models import AbuseAction, Flag, FlagStatus, FlagUser
from .selectors import abuse_metrics

REVIEW_PERMISSION = "abuse.review_flag"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required. Recorded in the audit trail (and, for a clawback, on each ledger row).",
    )


class ClawBackForm(ReasonForm):
    kinds = forms.MultipleChoiceField(
        choices=[(kind, LedgerKind(kind).label) for kind in CLAWBACK_KINDS],
        initial=list(CLAWBACK_KINDS),
        widget=forms.CheckboxSelectMultiple,
        help_text="What to take back from every account of the selected flags, up to each balance.",
    )


def _review_action(name: str, description: str, form_class: type[ReasonForm] = ReasonForm):
    def action(modeladmin, request, queryset):
        return modeladmin.review(request, queryset, name=name, description=description, form_class=form_class)

    action.__name__ = name
    return admin.action(description=description, permissions=["review"])(action)


class ReviewActionsMixin:
    """An admin action that first asks for a reason on a confirmation page, then runs `perform`."""

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    def review(self, request, queryset, *, name: str, description: str, form_class: type[ReasonForm]):
        objects = list(queryset)
        form = form_class(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            message = self.perform(request, objects, name=name, data=form.cleaned_data)
            self.message_user(request, message, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{description}?",
            "opts": self.model._meta,
            "objects": objects,
            "form": form,
            "action": name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/abuse/review_action.html", context)


class FlaggedUserInline(admin.TabularInline):
    model = FlagUser
    extra = 0
    can_delete = False
    fields = ["user", "suspended"]
    readonly_fields = ["user", "suspended"]
    verbose_name_plural = "accounts"

    @admin.display(description="Suspended since")
    def suspended(self, link: FlagUser):
        return link.user.suspended_at or "-"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Flag)
class FlagAdmin(ReviewActionsMixin, ReadOnlyAdmin):
    """The review queue: open flags first, newest first; filter by status, severity, rule and date,
    search by account or key."""

    change_list_template = "admin/abuse/flag/change_list.html"
    list_display = ["created_at", "rule", "severity", "status", "account_count", "accounts", "key", "last_seen_at"]
    list_filter = ["status", "severity", "rule", "created_at"]
    search_fields = ["key", "flag_users__user__username", "flag_users__user__email"]
    date_hierarchy = "created_at"
    inlines = [FlaggedUserInline]
    fields = [
        "rule",
        "severity",
        "status",
        "key",
        "evidence",
        "created_at",
        "last_seen_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    ]
    actions = [
        _review_action("dismiss", "Dismiss the selected flags"),
        _review_action("suspend", "Suspend the accounts of the selected flags"),
        _review_action("reinstate", "Reinstate the accounts of the selected flags"),
        _review_action("claw_back", "Claw back bonuses and rewards of the selected flags", ClawBackForm),
    ]

    def get_ordering(self, request):
        open_first = Case(When(status=FlagStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
        return [open_first.asc(), "-created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(accounts_total=Count("flag_users")).prefetch_related("users")

    @admin.display(description="Accounts", ordering="accounts_total")
    def account_count(self, flag: Flag) -> int:
        return flag.accounts_total

    @admin.display(description="Who")
    def accounts(self, flag: Flag) -> str:
        users = sorted(flag.users.all(), key=lambda user: user.username)
        shown = format_html_join(
            ", ",
            '<a href="{}">{}</a>{}',
            (
                (
                    reverse("admin:accounts_user_change", args=[user.pk]),
                    user.username,
                    " (suspended)" if user.suspended_at else "",
                )
                for user in users[:5]
            ),
        )
        return format_html("{}{}", shown, f" and {len(users) - 5} more" if len(users) > 5 else "")

    def perform(self, request, flags: list[Flag], *, name: str, data: dict) -> str:
        staff_id, reason = request.user.pk, data["reason"]
        if name == "dismiss":
            for flag in flags:
                services.flag_dismiss(flag_id=flag.pk, staff_id=staff_id, reason=reason)
            return f"Dismissed {len(flags)} flag(s)."
        if name == "suspend":
            count = sum(services.flag_suspend(flag_id=flag.pk, staff_id=staff_id, reason=reason) for flag in flags)
            return f"Suspended {count} account(s)."
        if name == "reinstate":
            count = sum(services.flag_reinstate(flag_id=flag.pk, staff_id=staff_id, reason=reason) for flag in flags)
            return f"Reinstated {count} account(s)."
        total = sum(
            services.flag_claw_back(flag_id=flag.pk, staff_id=staff_id, reason=reason, kinds=data["kinds"])
            for flag in flags
        )
        return f"Clawed back {total:,} credits through the ledger."

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "metrics": abuse_metrics()})


@admin.register(AbuseAction)
class AbuseActionAdmin(ReadOnlyAdmin):
    """The audit trail: suspensions (automatic ones have no staff member), reinstatements,
    clawbacks and dismissals."""

    list_display = ["created_at", "kind", "user", "staff", "flag", "amount", "reason"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "user__email", "staff__username", "reason"]
    list_select_related = ["user", "staff", "flag"]
    date_hierarchy = "created_at"


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserReviewAdmin(ReviewActionsMixin, UserAdmin):
    """The user admin with suspend and reinstate (the same audited services as the review queue)."""

    actions = [
        *UserAdmin.actions,
        _review_action("suspend_users", "Suspend the selected accounts"),
        _review_action("reinstate_users", "Reinstate the selected accounts"),
    ]

    def perform(self, request, users: list, *, name: str, data: dict) -> str:
        staff_id, reason = request.user.pk, data["reason"]
        if name == "suspend_users":
            count = sum(services.account_suspend(user_id=user.pk, reason=reason, staff_id=staff_id) for user in users)
            return f"Suspended {count} account(s)."
        count = sum(services.account_reinstate(user_id=user.pk, reason=reason, staff_id=staff_id) for user in users)
        return f"Reinstated {count} account(s)."
