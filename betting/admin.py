"""Bets in the admin (read-only history), and resolving markets: the market admin is extended here
with the resolve actions and the pending-bets display, because both are about bets."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from markets.admin import MarketAdmin
from markets.errors import MarketClosed
from markets.models import Market, Resolution, ResolutionSource, Side
from thisthat.admin import ReadOnlyAdmin
from thisthat.errors import DomainError

from .models import Bet, ResolutionCorrection
from .selectors import SideTotals, correction_previews, pending_totals_by_market, resolution_previews
from .services import market_resolve, market_unresolve


@admin.register(Bet)
class BetAdmin(ReadOnlyAdmin):
    """Bets are history: staff can look and filter, never edit (settlement and cash-out own them)."""

    list_display = ["id", "user", "market", "side", "amount", "odds_at_bet", "potential_payout", "status", "placed_at"]
    list_filter = ["status", "side", "market__market_type", "placed_at"]
    search_fields = ["user__username", "user__email", "market__title", "=id"]
    list_select_related = ["user", "market"]
    raw_id_fields = ["user", "market"]
    date_hierarchy = "placed_at"


def _resolve_action(outcome: str, label: str):
    def action(modeladmin: "MarketResolveAdmin", request, queryset):
        return modeladmin.resolve(request, queryset, outcome=outcome, label=label)

    action.__name__ = f"resolve_{outcome}"
    return admin.action(description=f"Resolve as {label}", permissions=["change"])(action)


@admin.register(ResolutionCorrection)
class ResolutionCorrectionAdmin(ReadOnlyAdmin):
    """Every correction of a resolution, with its reason and staff member (the ledger holds the rows)."""

    list_display = [
        "created_at",
        "market",
        "previous_outcome",
        "new_outcome",
        "staff",
        "bets_reversed",
        "credits_reversed",
        "debt_added",
    ]
    list_filter = ["previous_outcome", "new_outcome", "created_at"]
    search_fields = ["market__title", "reason", "staff__username", "=market__id"]
    list_select_related = ["market", "staff"]
    raw_id_fields = ["market", "staff"]


def _correction_action(outcome: str | None, label: str):
    def action(modeladmin: "MarketResolveAdmin", request, queryset):
        return modeladmin.correct(request, queryset, outcome=outcome, label=label)

    action.__name__ = f"reresolve_{outcome}" if outcome else "unresolve"
    return admin.action(description=f"Correct the resolution: {label}", permissions=["change"])(action)


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
        help_text="Required: why the result is corrected. Kept with the correction and on every ledger row.",
    )
    reopen = forms.BooleanField(
        required=False,
        initial=True,
        label="Reopen credits markets to bets (unless past their end date); otherwise they stay closed",
    )


admin.site.unregister(Market)


@admin.register(Market)
class MarketResolveAdmin(MarketAdmin):
    """The markets admin with the resolve actions; settlement runs through the same service as
    automatic resolution."""

    actions = [
        _resolve_action(Resolution.THIS, "THIS"),
        _resolve_action(Resolution.THAT, "THAT"),
        _resolve_action(Resolution.INVALID, "INVALID (refund every bet)"),
        _correction_action(None, "unresolve (bets back to pending)"),
        _correction_action(Resolution.THIS, "re-resolve as THIS"),
        _correction_action(Resolution.THAT, "re-resolve as THAT"),
        _correction_action(Resolution.INVALID, "re-resolve as INVALID"),
    ]
    extra_readonly_fields = ("pending_bets",)

    def resolve(self, request, queryset, *, outcome: str, label: str):
        """Show what resolving would settle; resolve through the settlement service once confirmed."""
        markets = list(queryset.order_by("title"))
        if request.POST.get("confirm") != "yes":
            plans = resolution_previews(markets=markets, outcome=outcome)
            context = {
                **self.admin_site.each_context(request),
                "title": f"Resolve as {label}?",
                "opts": self.model._meta,
                "plans": plans,
                "outcome_label": label,
                "total_pending": sum(plan.pending for plan in plans),
                "total_credits": sum((plan.credits for plan in plans), Decimal(0)),
                "queryset": markets,
                "action": f"resolve_{outcome}",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/markets/market/resolve_confirmation.html", context)
        for market in markets:
            try:
                market_resolve(
                    market_id=market.pk, outcome=outcome, source=ResolutionSource.ADMIN, resolved_by_id=request.user.pk
                )
            except MarketClosed as exc:
                self.message_user(request, f"{market.title}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{market.title}: resolved as {label}; its bets are being settled.")
        return None

    def correct(self, request, queryset, *, outcome: str | None, label: str):
        """Show per market what the correction moves (bets and credits taken back, debt, what settling
        again pays); correct through market_unresolve once confirmed with a reason."""
        markets = list(queryset.order_by("title"))
        form = CorrectionForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            for market in markets:
                try:
                    correction = market_unresolve(
                        market_id=market.pk,
                        reason=form.cleaned_data["reason"],
                        staff_id=request.user.pk,
                        outcome=outcome,
                        reopen=form.cleaned_data["reopen"],
                    )
                except DomainError as exc:
                    self.message_user(request, f"{market.title}: {exc.message}", messages.ERROR)
                else:
                    then = (
                        f"resolved again as {outcome.upper()}; its bets are being settled"
                        if outcome
                        else (f"back to {correction.market.status}")
                    )
                    self.message_user(
                        request,
                        f"{market.title}: {correction.bets_reversed} bets back to pending, "
                        f"{correction.credits_reversed} credits taken back ({correction.debt_added} as debt); {then}.",
                    )
            return None
        previews = correction_previews(markets=markets, outcome=outcome)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Correct the resolution: {label}?",
            "opts": self.model._meta,
            "previews": previews,
            "outcome": outcome,
            "outcome_label": label,
            "form": form,
            "queryset": markets,
            "action": f"reresolve_{outcome}" if outcome else "unresolve",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/markets/market/correction_confirmation.html", context)

    @admin.display(description="Pending bets by side")
    def pending_bets(self, obj: Market) -> str:
        sides = pending_totals_by_market(market_ids=[obj.pk])[obj.pk]
        rows = [
            (label, totals.bets, totals.staked, totals.potential_payout)
            for side, label in Side.choices
            for totals in [sides.get(side, SideTotals())]
        ]
        return format_html_join("", "<div>{}: {} bets, {} staked, {} if it wins</div>", rows)
