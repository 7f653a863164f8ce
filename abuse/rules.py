"""The anti-abuse rules: pure functions from plain facts to findings. No ORM, no settings, no clock:
the services gather the facts (abuse/selectors.py) and the thresholds (settings ABUSE_*), run the
rules and raise a flag per finding (abuse/services.py).

A finding names the rule, a severity, a key (what the accounts share or who they are: "device:…",
"address:…", "user:…", "referral:…") and the accounts, with its evidence. Only strong evidence is
`high`: findings that rest on a shared address alone never are, because many honest people share
one (a household, an office, a mobile carrier's NAT).
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID


class Rule(StrEnum):
    SIGNUP_VELOCITY_ADDRESS = "signup_velocity_address"
    SIGNUP_VELOCITY_DEVICE = "signup_velocity_device"
    REFERRAL_CLUSTER = "referral_cluster"
    SELF_REFERRAL = "self_referral"
    CLAIM_VELOCITY_ADDRESS = "claim_velocity_address"
    CLAIM_VELOCITY_DEVICE = "claim_velocity_device"
    PURCHASE_ANOMALY = "purchase_anomaly"
    ODDS_MOVE_WINS = "odds_move_wins"
    BALANCE_JUMP = "balance_jump"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Finding:
    rule: Rule
    severity: Severity
    key: str
    user_ids: frozenset[UUID]
    evidence: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Thresholds:
    signup_window: timedelta = timedelta(hours=24)
    signups_per_address: int = 10
    signups_per_device: int = 3
    claim_window: timedelta = timedelta(hours=24)
    claim_accounts_per_address: int = 10
    claim_accounts_per_device: int = 3
    cluster_accounts_per_device: int = 3
    cluster_accounts_per_address: int = 5
    purchase_window: timedelta = timedelta(hours=24)
    purchases_per_window: int = 10
    purchase_credits_per_window: Decimal = Decimal(30000)
    odds_move: Decimal = Decimal("0.05")
    odds_move_bets: int = 5
    odds_move_share: Decimal = Decimal("0.6")


# --- facts ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientEvent:
    """Something an account did from a client: a sign-up or a reward claim."""

    user_id: UUID
    at: datetime
    address: str | None
    device_id: str


@dataclass(frozen=True)
class PurchaseFact:
    user_id: UUID
    at: datetime
    credits: Decimal


@dataclass(frozen=True)
class BetMove:
    """A bet, the odds it was placed at, and its side's odds after the market's next sync."""

    user_id: UUID
    bet_id: UUID
    odds: Decimal
    odds_after: Decimal


@dataclass(frozen=True)
class CreditPosting:
    """A ledger row that added credits, with the most it may be (`limit`) by its kind's normal size."""

    entry_id: int
    user_id: UUID
    kind: str
    amount: Decimal
    limit: Decimal


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _client_key(event: ClientEvent, by: str) -> str | None:
    if by == "device":
        return f"device:{event.device_id}" if event.device_id else None
    return f"address:{event.address}" if event.address else None


def _bursts(events: Iterable[ClientEvent], *, by: str, window: timedelta, accounts: int) -> dict[str, list]:
    """Per client key, the events that fall in a window of `window` holding at least `accounts`
    distinct accounts (a sliding window over the key's events in time order)."""
    by_key: dict[str, list[ClientEvent]] = defaultdict(list)
    for event in events:
        key = _client_key(event, by)
        if key is not None:
            by_key[key].append(event)
    bursts: dict[str, list] = {}
    for key, keyed in by_key.items():
        keyed.sort(key=lambda event: event.at)
        inside: Counter = Counter()
        caught: dict[int, ClientEvent] = {}
        start = 0
        for end, event in enumerate(keyed):
            inside[event.user_id] += 1
            while event.at - keyed[start].at > window:
                inside[keyed[start].user_id] -= 1
                if not inside[keyed[start].user_id]:
                    del inside[keyed[start].user_id]
                start += 1
            if len(inside) >= accounts:
                caught.update((index, keyed[index]) for index in range(start, end + 1))
        if caught:
            bursts[key] = [caught[index] for index in sorted(caught)]
    return bursts


def _velocity(
    events: Iterable[ClientEvent], *, rule: Rule, by: str, window: timedelta, accounts: int, severity: Severity
) -> list[Finding]:
    findings = []
    for key, burst in _bursts(events, by=by, window=window, accounts=accounts).items():
        users = frozenset(event.user_id for event in burst)
        evidence = {
            "accounts": len(users),
            "events": len(burst),
            "windowHours": window.total_seconds() / 3600,
            "threshold": accounts,
            "first": _iso(burst[0].at),
            "last": _iso(burst[-1].at),
        }
        findings.append(Finding(rule, severity, key, users, evidence))
    return findings


# --- the rules ------------------------------------------------------------------------------------
def signup_velocity(signups: Iterable[ClientEvent], thresholds: Thresholds) -> list[Finding]:
    """Many sign-ups from one address (low: a campus or an office can do that) or one device
    (medium: one phone rarely needs several accounts) within the window."""
    signups = list(signups)
    window = thresholds.signup_window
    return [
        *_velocity(
            signups,
            rule=Rule.SIGNUP_VELOCITY_ADDRESS,
            by="address",
            window=window,
            accounts=thresholds.signups_per_address,
            severity=Severity.LOW,
        ),
        *_velocity(
            signups,
            rule=Rule.SIGNUP_VELOCITY_DEVICE,
            by="device",
            window=window,
            accounts=thresholds.signups_per_device,
            severity=Severity.MEDIUM,
        ),
    ]


def claim_velocity(claims: Iterable[ClientEvent], thresholds: Thresholds) -> list[Finding]:
    """Daily rewards claimed by many accounts from one address (low) or one device (medium)
    within the window: one person collecting the ladder of several accounts."""
    claims = list(claims)
    window = thresholds.claim_window
    return [
        *_velocity(
            claims,
            rule=Rule.CLAIM_VELOCITY_ADDRESS,
            by="address",
            window=window,
            accounts=thresholds.claim_accounts_per_address,
            severity=Severity.LOW,
        ),
        *_velocity(
            claims,
            rule=Rule.CLAIM_VELOCITY_DEVICE,
            by="device",
            window=window,
            accounts=thresholds.claim_accounts_per_device,
            severity=Severity.MEDIUM,
        ),
    ]


def _referral_groups(accounts: set[UUID], referrer_of: Mapping[UUID, UUID]) -> list[set[UUID]]:
    """Split `accounts` into groups tied by referrals, directly or through a common referrer (who
    need not be among them): union-find over account → referrer."""
    parent: dict[UUID, UUID] = {}

    def root(node: UUID) -> UUID:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for account in accounts:
        if account in referrer_of:
            parent[root(account)] = root(referrer_of[account])
    groups: dict[UUID, set[UUID]] = defaultdict(set)
    for account in accounts:
        groups[root(account)].add(account)
    return list(groups.values())


def referral_clusters(
    accounts_by_key: Mapping[str, Iterable[UUID]], referrer_of: Mapping[UUID, UUID], thresholds: Thresholds
) -> list[Finding]:
    """Several accounts seen on one device or address that are tied by referrals: they refer each
    other (a chain) or share one referrer. Accounts on one address that never referred each other
    are not a cluster, however many there are. A device cluster is high, an address cluster medium.

    `accounts_by_key` maps "device:…"/"address:…" to the accounts seen there; `referrer_of` maps a
    referred account to its referrer. The finding's accounts are those on the key in a referral
    group of at least the threshold (a referrer elsewhere is named in the evidence only)."""
    findings = []
    for key, accounts in accounts_by_key.items():
        on_key = set(accounts)
        by_device = key.startswith("device:")
        needed = thresholds.cluster_accounts_per_device if by_device else thresholds.cluster_accounts_per_address
        if len(on_key) < needed:
            continue
        groups = _referral_groups(on_key, referrer_of)
        members = set().union(*(group for group in groups if len(group) >= needed))
        if not members:
            continue
        referrers = sorted(str(referrer_of[account]) for account in members if account in referrer_of)
        evidence = {"accounts": len(members), "threshold": needed, "referrers": sorted(set(referrers))}
        findings.append(
            Finding(
                Rule.REFERRAL_CLUSTER,
                Severity.HIGH if by_device else Severity.MEDIUM,
                key,
                frozenset(members),
                evidence,
            )
        )
    return findings


def self_referral(
    *, referrer_id: UUID, referred_id: UUID, shared_devices: Iterable[str], shared_addresses: Iterable[str]
) -> Finding | None:
    """A referral between two accounts that share a device (medium: one person referring
    themselves, or a family's tablet) or only an address (low: a household). Either way the
    referrer's bonus is withheld; the flag is for review, a farm shows as a referral cluster."""
    devices, addresses = sorted(set(shared_devices)), sorted(set(shared_addresses))
    if not devices and not addresses:
        return None
    evidence = {"referrer": str(referrer_id), "referred": str(referred_id), "devices": devices, "addresses": addresses}
    severity = Severity.MEDIUM if devices else Severity.LOW
    users = frozenset({referrer_id, referred_id})
    return Finding(Rule.SELF_REFERRAL, severity, f"referral:{referred_id}", users, evidence)


def purchase_anomalies(purchases: Iterable[PurchaseFact], thresholds: Thresholds) -> list[Finding]:
    """An account buying unusually often or unusually much within the window (a stolen card is
    used fast): at least `purchases_per_window` purchases, or `purchase_credits_per_window` credits."""
    by_user: dict[UUID, list[PurchaseFact]] = defaultdict(list)
    for purchase in purchases:
        by_user[purchase.user_id].append(purchase)
    findings = []
    window = thresholds.purchase_window
    for user_id, bought in by_user.items():
        bought.sort(key=lambda purchase: purchase.at)
        start, credits = 0, Decimal(0)
        most_count, most_credits = 0, Decimal(0)
        for end, purchase in enumerate(bought):
            credits += purchase.credits
            while purchase.at - bought[start].at > window:
                credits -= bought[start].credits
                start += 1
            most_count, most_credits = max(most_count, end - start + 1), max(most_credits, credits)
        if most_count >= thresholds.purchases_per_window or most_credits >= thresholds.purchase_credits_per_window:
            evidence = {
                "mostPurchases": most_count,
                "mostCredits": str(most_credits),
                "windowHours": window.total_seconds() / 3600,
            }
            findings.append(
                Finding(Rule.PURCHASE_ANOMALY, Severity.MEDIUM, f"user:{user_id}", frozenset({user_id}), evidence)
            )
    return findings


def odds_move_wins(bets: Iterable[BetMove], thresholds: Thresholds) -> list[Finding]:
    """A bettor whose bets keep landing just before the odds move their way: at least
    `odds_move_bets` bets whose side's odds rose by `odds_move` or more at the market's next sync,
    making up at least `odds_move_share` of their bets (someone betting on prices we have not
    synced yet). One lucky bet, or a big winner whose bets mostly did not move, is not flagged."""
    by_user: dict[UUID, list[BetMove]] = defaultdict(list)
    for bet in bets:
        by_user[bet.user_id].append(bet)
    findings = []
    for user_id, placed in by_user.items():
        ahead = [bet for bet in placed if bet.odds_after - bet.odds >= thresholds.odds_move]
        if len(ahead) < thresholds.odds_move_bets or Decimal(len(ahead)) / len(placed) < thresholds.odds_move_share:
            continue
        evidence = {
            "bets": len(placed),
            "aheadOfMove": len(ahead),
            "minMove": str(thresholds.odds_move),
            "examples": [
                {"bet": str(bet.bet_id), "odds": str(bet.odds), "oddsAfter": str(bet.odds_after)} for bet in ahead[:10]
            ],
        }
        findings.append(
            Finding(Rule.ODDS_MOVE_WINS, Severity.MEDIUM, f"user:{user_id}", frozenset({user_id}), evidence)
        )
    return findings


def balance_jumps(postings: Iterable[CreditPosting], *, staff_kinds: Iterable[str] = ()) -> list[Finding]:
    """Credits that the ledger kind's normal size does not explain: a bonus or reward bigger than the
    product pays, a payout bigger than its bet could pay. High, except for kinds staff post by hand
    (`staff_kinds`: an adjustment over the limit asks for a second pair of eyes, medium)."""
    staff_kinds = set(staff_kinds)
    by_user: dict[UUID, list[CreditPosting]] = defaultdict(list)
    for posting in postings:
        if posting.amount > posting.limit:
            by_user[posting.user_id].append(posting)
    findings = []
    for user_id, jumps in by_user.items():
        severity = Severity.MEDIUM if all(jump.kind in staff_kinds for jump in jumps) else Severity.HIGH
        evidence = {
            "postings": [
                {"entry": jump.entry_id, "kind": jump.kind, "amount": str(jump.amount), "normalMax": str(jump.limit)}
                for jump in jumps
            ]
        }
        findings.append(Finding(Rule.BALANCE_JUMP, severity, f"user:{user_id}", frozenset({user_id}), evidence))
    return findings
