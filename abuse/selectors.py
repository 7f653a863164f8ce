"""Reads of the anti-abuse app: the facts the rules run on (from activity, referrals, purchases, the
ledger and bets), who is flagged, and the metrics of the review."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, Count, DecimalField, F, Max, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from activity.models import Activity, ActivityKind
from betting.models import Bet
from economy.models import CreditPackage, LedgerEntry, LedgerKind, Purchase, Referral, ReferralStatus
from stocks.models import StockTrade
from thisthat.money import CREDITS

from .models import AbuseAction, ActionKind, Flag, FlagStatus, FlagUser
from .rules import BetMove, ClientEvent, CreditPosting, PurchaseFact, Severity

_MONEY = DecimalField(**CREDITS)
# Activity that says who holds an account (few rows a day each), unlike bets and cash-outs.
IDENTITY_KINDS = [ActivityKind.SIGNUP, ActivityKind.LOGIN, ActivityKind.DAILY_REWARD, ActivityKind.PURCHASE]


def client_events(*, kind: ActivityKind, since: datetime) -> list[ClientEvent]:
    rows = Activity.objects.filter(kind=kind, created_at__gte=since).values_list(
        "user_id", "created_at", "address", "device_id"
    )
    return [ClientEvent(user_id, at, address, device_id) for user_id, at, address, device_id in rows]


def accounts_by_client(*, since: datetime) -> dict[str, set[UUID]]:
    """Per device and per address used by more than one account since `since` (sign-ups, logins,
    claims, purchases): the accounts seen there, keyed "device:…" / "address:…"."""
    identity = Activity.objects.filter(kind__in=IDENTITY_KINDS, created_at__gte=since)
    clients = [
        ("device", "device_id", identity.exclude(device_id="")),
        ("address", "address", identity.filter(address__isnull=False)),
    ]
    seen: dict[str, set[UUID]] = {}
    for prefix, field, recorded in clients:
        shared = (
            recorded.values(field)
            .annotate(accounts=Count("user_id", distinct=True))
            .filter(accounts__gt=1)
            .values(field)
        )
        for value, user_id in recorded.filter(**{f"{field}__in": shared}).values_list(field, "user_id").distinct():
            seen.setdefault(f"{prefix}:{value}", set()).add(user_id)
    return seen


def referrers_of(user_ids: set[UUID]) -> dict[UUID, UUID]:
    return dict(Referral.objects.filter(referred_id__in=user_ids).values_list("referred_id", "referrer_id"))


def referrals_since(*, since: datetime) -> list[tuple[UUID, UUID]]:
    """(referrer, referred) of the referrals made since `since`."""
    return list(Referral.objects.filter(created_at__gte=since).values_list("referrer_id", "referred_id"))


@dataclass(frozen=True)
class SharedClients:
    devices: set[str]
    addresses: set[str]


def shared_clients(*, user_id: UUID, other_id: UUID) -> SharedClients:
    """The devices and addresses both accounts were recorded on (within the activity retention).
    `user_id` should be the account with fewer records (a new one): its devices and addresses are
    read, then looked up among the other's through the device and address indexes."""
    mine = set(Activity.objects.filter(user_id=user_id).values_list("device_id", "address").distinct())
    devices = {device for device, _ in mine if device}
    addresses = {address for _, address in mine if address}
    theirs = Activity.objects.filter(user_id=other_id)
    return SharedClients(
        devices=set(theirs.filter(device_id__in=devices).values_list("device_id", flat=True).distinct())
        if devices
        else set(),
        addresses=set(theirs.filter(address__in=addresses).values_list("address", flat=True).distinct())
        if addresses
        else set(),
    )


def purchases_since(*, since: datetime) -> list[PurchaseFact]:
    rows = Purchase.objects.filter(created_at__gte=since).values_list("user_id", "created_at", "credits")
    return [PurchaseFact(user_id, at, credits) for user_id, at, credits in rows]


def bet_moves_since(*, since: datetime) -> list[BetMove]:
    """Bets since `since` whose market has been synced after them."""
    rows = Activity.objects.filter(kind=ActivityKind.BET, created_at__gte=since, odds_after__isnull=False).values_list(
        "user_id", "reference_id", "odds", "odds_after"
    )
    return [BetMove(user_id, bet_id, odds, after) for user_id, bet_id, odds, after in rows]


def credit_postings_since(*, since: datetime) -> list[CreditPosting]:
    """Ledger rows since `since` that added more credits than their kind normally does, each with
    that most: the bonus and reward sizes of the settings, the biggest credit pack, the bet's own
    potential payout (payouts and sales) or stake (refunds), the stock trade's own proceeds (stock
    sales: the curve paid them out of the stock's reserve), ABUSE_LARGE_ADJUSTMENT for staff
    adjustments. Compared in SQL, so the scan never loads the ordinary rows."""
    biggest_pack = CreditPackage.objects.aggregate(most=Max("credits"))["most"] or Decimal(0)
    bet = Bet.objects.filter(pk=OuterRef("reference_id"))
    trade = StockTrade.objects.filter(pk=OuterRef("reference_id"))

    def of_bet(field: str) -> Coalesce:
        return Coalesce(Subquery(bet.values(field)[:1], output_field=_MONEY), Value(Decimal(0)), output_field=_MONEY)

    sale_proceeds = Coalesce(
        Subquery(trade.values("credits")[:1], output_field=_MONEY), Value(Decimal(0)), output_field=_MONEY
    )

    limit = Case(
        When(kind=LedgerKind.SIGNUP_BONUS, then=Value(settings.SIGNUP_BONUS)),
        When(kind=LedgerKind.REFERRAL_BONUS, then=Value(settings.REFERRAL_BONUS)),
        When(kind=LedgerKind.DAILY_REWARD, then=Value(settings.DAILY_REWARD_MAX)),
        When(kind=LedgerKind.PURCHASE, then=Value(biggest_pack)),
        When(kind=LedgerKind.ADMIN_ADJUSTMENT, then=Value(settings.ABUSE_LARGE_ADJUSTMENT)),
        When(kind__in=[LedgerKind.BET_PAYOUT, LedgerKind.BET_SALE], then=of_bet("potential_payout")),
        When(kind=LedgerKind.BET_REFUND, then=of_bet("amount")),
        When(kind=LedgerKind.STOCK_SELL, then=sale_proceeds),
        default=Value(Decimal(0)),
        output_field=_MONEY,
    )
    rows = (
        LedgerEntry.objects.filter(created_at__gte=since, amount__gt=0)
        .annotate(normal_max=limit)
        .filter(amount__gt=F("normal_max"))
        .values_list("pk", "user_id", "kind", "amount", "normal_max")
    )
    return [CreditPosting(pk, user_id, kind, amount, normal_max) for pk, user_id, kind, amount, normal_max in rows]


def is_flagged(*, user_id: UUID) -> bool:
    """Named in a medium or high flag that is open or was acted on. A dismissed flag clears the
    account; a low one (a busy address, a household) is for information only."""
    return FlagUser.objects.filter(
        user_id=user_id,
        flag__status__in=[FlagStatus.OPEN, FlagStatus.ACTIONED],
        flag__severity__in=[Severity.MEDIUM, Severity.HIGH],
    ).exists()


def reviewed_accounts(*, rule: str, key: str) -> set[UUID]:
    """The accounts of the dismissed or actioned flags of this rule and key."""
    return set(
        FlagUser.objects.filter(flag__rule=rule, flag__key=key)
        .exclude(flag__status=FlagStatus.OPEN)
        .values_list("user_id", flat=True)
    )


# --- metrics --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlagCount:
    rule: str
    severity: str
    total: int
    open: int


@dataclass(frozen=True)
class WithheldCount:
    reason: str
    count: int


@dataclass(frozen=True)
class AbuseMetrics:
    """Counters of the review, shaped for a metrics exporter (one gauge per field, a label per
    rule and severity)."""

    flags: list[FlagCount]
    suspended_accounts: int
    suspensions: int
    automatic_suspensions: int
    reinstatements: int
    clawed_back_credits: Decimal
    referrals_withheld: list[WithheldCount]


def abuse_metrics() -> AbuseMetrics:
    """Flags raised by rule and severity (all time, and still open), accounts suspended now,
    suspensions and reinstatements so far, credits clawed back, and referral bonuses withheld by
    reason. Six aggregate queries, whatever the volume."""
    flags = [
        FlagCount(row["rule"], row["severity"], row["total"], row["open"])
        for row in Flag.objects.values("rule", "severity")
        .annotate(total=Count("pk"), open=Count("pk", filter=Q(status=FlagStatus.OPEN)))
        .order_by("rule", "severity")
    ]
    actions = AbuseAction.objects.aggregate(
        suspensions=Count("pk", filter=Q(kind=ActionKind.SUSPEND)),
        automatic=Count("pk", filter=Q(kind=ActionKind.SUSPEND, staff__isnull=True)),
        reinstatements=Count("pk", filter=Q(kind=ActionKind.REINSTATE)),
    )
    clawed = LedgerEntry.objects.filter(kind=LedgerKind.CLAWBACK).aggregate(
        total=Coalesce(Sum("amount"), Value(Decimal(0)), output_field=_MONEY)
    )["total"]
    withheld = [
        WithheldCount(reason, count)
        for reason, count in Referral.objects.filter(status=ReferralStatus.WITHHELD)
        .values("reason")
        .annotate(count=Count("pk"))
        .order_by("reason")
        .values_list("reason", "count")
    ]
    return AbuseMetrics(
        flags=flags,
        suspended_accounts=get_user_model().objects.filter(suspended_at__isnull=False).count(),
        suspensions=actions["suspensions"],
        automatic_suspensions=actions["automatic"],
        reinstatements=actions["reinstatements"],
        clawed_back_credits=-clawed,
        referrals_withheld=withheld,
    )
