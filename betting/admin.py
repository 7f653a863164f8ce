"""Bets in the admin (read-only history), and resolving markets: the market admin is extended here
with the resolve actions and the pending-bets display, because both are about bets."""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from markets.admin import MarketAdmin
from markets.errors import MarketClosed
from markets.models import SETTLED_STATUSES, Market, Resolution, ResolutionSource, Side
from thisthat.admin import ReadOnlyAdmin, credits_text, number_column, short_id_column, time_column
from thisthat.errors import DomainError

from .models import Bet, ResolutionCorrection
from .selectors import (
    ResolutionPreview,
    SideTotals,
    correction_previews,
    pending_totals_by_market,
    resolution_previews,
)
from .services import market_resolve, market_unresolve


@admin.register(Bet)
class BetAdmin(ReadOnlyAdmin):
    """Bets are history: staff can look and filter, never edit (settlement and cash-out own them)."""

    list_display = [
        time_column("placed_at", "Placed"),
        "user",
        "market_title",
        "shown_side",
        number_column("amount", "Amount"),
        number_column("odds_at_bet", "Odds", kind="odds"),
        number_column("potential_payout", "Payout if it wins"),
        "status",
        short_id_column(),
    ]
    list_filter = ["status", "side", "market__market_type", "placed_at"]
    search_fields = ["user__username", "user__email", "market__title", "=id"]
    list_select_related = ["user", "market"]
    raw_id_fields = ["user", "market"]
    date_hierarchy = "placed_at"

    @admin.display(description="Market", ordering="market__title")
    def market_title(self, bet: Bet) -> str:
        return format_html('<span title="{}">{}</span>', bet.market.title, Truncator(bet.market.title).chars(50))

    @admin.display(description="Side", ordering="side")
    def shown_side(self, bet: Bet) -> str:
        return side_meaning(bet.market, bet.side)


@admin.register(ResolutionCorrection)
class ResolutionCorrectionAdmin(ReadOnlyAdmin):
    """Every correction of a resolution, with its reason and staff member (the ledger holds the rows)."""

    list_display = [
        time_column("created_at", "Corrected"),
        "market",
        "previous_outcome",
        "new_outcome",
        "staff",
        number_column("bets_reversed", "Bets", kind="whole"),
        number_column("credits_reversed", "Credits taken back"),
        number_column("debt_added", "Debt"),
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


def side_meaning(market: Market, side: str) -> str:
    """THIS (Yes): the side and what it stands for on this market."""
    option = market.this_option if side == Side.THIS else market.that_option
    return f"{Side(side).label} ({option})"


def _resolve_action(outcome: str, label: str):
    def action(modeladmin: "MarketResolveAdmin", request, queryset):
        return modeladmin.resolve(request, queryset, outcome=outcome, label=label)

    action.__name__ = f"resolve_{outcome}"
    return admin.action(description=f"Resolve as {label}", permissions=["change"])(action)


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
        """Show what resolving would settle; resolve through the settlement service once confirmed.
        Markets already resolved are listed apart and never offered for confirmation."""
        markets = list(queryset.order_by("title"))
        if request.POST.get("confirm") != "yes":
            return self._confirmation(request, markets, outcome=outcome, label=label)
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

    def _confirmation(self, request, markets: list[Market], *, outcome: str, label: str) -> TemplateResponse:
        open_markets = [market for market in markets if market.status not in SETTLED_STATUSES]
        plans = resolution_previews(markets=open_markets, outcome=outcome)
        rows = [
            ResolutionRow(
                plan=plan,
                this_means=side_meaning(plan.market, Side.THIS),
                that_means=side_meaning(plan.market, Side.THAT),
                winner=None if outcome == Resolution.INVALID else side_meaning(plan.market, outcome),
                credits=credits_text(plan.credits),
            )
            for plan in plans
        ]
        settled = [
            SettledRow(market=market, resolution=_resolution_meaning(market))
            for market in markets
            if market.status in SETTLED_STATUSES
        ]
        total_credits = sum((plan.credits for plan in plans), Decimal(0))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve as {label}?",
            "subtitle": None,
            "opts": self.model._meta,
            "outcome": outcome,
            "outcome_label": label,
            "rows": rows,
            "plans": plans,
            "settled": settled,
            "total_pending": sum(plan.pending for plan in plans),
            "total_paid_bets": sum(plan.paid_bets for plan in plans),
            "total_credits": total_credits,
            "total_credits_text": credits_text(total_credits),
            "action": f"resolve_{outcome}",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/markets/market/resolve_confirmation.html", context)

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
                        f"{credits_text(correction.credits_reversed)} credits taken back "
                        f"({credits_text(correction.debt_added)} as debt); {then}.",
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
            "media": self.media,
        }
        return TemplateResponse(request, "admin/markets/market/correction_confirmation.html", context)

    @admin.display(description="Pending bets by side")
    def pending_bets(self, obj: Market) -> str:
        sides = pending_totals_by_market(market_ids=[obj.pk])[obj.pk]
        rows = [
            (
                side_meaning(obj, side),
                totals.bets,
                "bet" if totals.bets == 1 else "bets",
                credits_text(totals.staked),
                credits_text(totals.potential_payout),
            )
            for side in Side.values
            for totals in [sides.get(side, SideTotals())]
        ]
        return format_html_join("", "<div>{}: {} {}, {} staked, {} if it wins</div>", rows)


@dataclass(frozen=True)
class ResolutionRow:
    """A market on the confirmation page: what resolving settles, in the words staff read."""

    plan: ResolutionPreview
    this_means: str
    that_means: str
    winner: str | None  # None for INVALID: every stake is refunded
    credits: str


@dataclass(frozen=True)
class SettledRow:
    market: Market
    resolution: str


def _resolution_meaning(market: Market) -> str:
    if market.resolution == Resolution.INVALID:
        return "INVALID (every stake refunded)"
    return side_meaning(market, market.resolution)
