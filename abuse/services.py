"""Writes of the anti-abuse app: the scan that runs every rule and raises flags, the inline checks
(a referral's bonus), suspension and reinstatement (audited user state), and the review actions."""

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from activity.models import ActivityKind
from activity.services import bets_odds_after_record
from economy.models import ReferralWithheld
from economy.services import CLAWBACK_KINDS, credits_claw_back
from thisthat.errors import ValidationFailed
from thisthat.jobs import JobSummary

from . import rules, selectors
from .models import AbuseAction, ActionKind, Flag, FlagStatus, FlagUser
from .rules import Finding, Severity, Thresholds

logger = logging.getLogger(__name__)

_SEVERITY_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH]


def thresholds() -> Thresholds:
    """The rules' thresholds from the settings (ABUSE_*)."""
    return Thresholds(
        signup_window=timedelta(hours=settings.ABUSE_SIGNUP_WINDOW_HOURS),
        signups_per_address=settings.ABUSE_SIGNUPS_PER_ADDRESS,
        signups_per_device=settings.ABUSE_SIGNUPS_PER_DEVICE,
        claim_window=timedelta(hours=settings.ABUSE_CLAIM_WINDOW_HOURS),
        claim_accounts_per_address=settings.ABUSE_CLAIM_ACCOUNTS_PER_ADDRESS,
        claim_accounts_per_device=settings.ABUSE_CLAIM_ACCOUNTS_PER_DEVICE,
        cluster_accounts_per_device=settings.ABUSE_CLUSTER_ACCOUNTS_PER_DEVICE,
        cluster_accounts_per_address=settings.ABUSE_CLUSTER_ACCOUNTS_PER_ADDRESS,
        purchase_window=timedelta(hours=settings.ABUSE_PURCHASE_WINDOW_HOURS),
        purchases_per_window=settings.ABUSE_PURCHASES_PER_WINDOW,
        purchase_credits_per_window=settings.ABUSE_PURCHASE_CREDITS_PER_WINDOW,
        odds_move=settings.ABUSE_ODDS_MOVE,
        odds_move_bets=settings.ABUSE_ODDS_MOVE_BETS,
        odds_move_share=settings.ABUSE_ODDS_MOVE_SHARE,
    )


# --- suspension -----------------------------------------------------------------------------------
def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.on("reason", "A reason is required.")
    return reason[:255]


@transaction.atomic
def account_suspend(
    *, user_id: UUID, reason: str, staff_id: UUID | None, flag_id: int | None = None, now: datetime | None = None
) -> bool:
    """Suspend an account (staff, or automatically with no staff member), with an audit row. It can
    still sign in and read; economy refuses its bets, cash-outs, claims, purchases and referral
    bonuses, and accounts refuses its referral code. False when it was suspended already. The
    UPDATE waits for a ledger posting in flight on the account (its row lock)."""
    reason = _reason(reason)
    suspended = (
        get_user_model()
        .objects.filter(pk=user_id, suspended_at__isnull=True)
        .update(suspended_at=now or timezone.now(), suspension_reason=reason)
    )
    if suspended:
        AbuseAction.objects.create(
            kind=ActionKind.SUSPEND, user_id=user_id, flag_id=flag_id, staff_id=staff_id, reason=reason
        )
        logger.warning(
            "account suspended",
            extra={"user_id": str(user_id), "staff_id": str(staff_id) if staff_id else None, "reason": reason},
        )
    return bool(suspended)


@transaction.atomic
def account_reinstate(*, user_id: UUID, reason: str, staff_id: UUID, flag_id: int | None = None) -> bool:
    """Lift a suspension, with an audit row; False when the account was not suspended."""
    reason = _reason(reason)
    reinstated = (
        get_user_model()
        .objects.filter(pk=user_id, suspended_at__isnull=False)
        .update(suspended_at=None, suspension_reason="")
    )
    if reinstated:
        AbuseAction.objects.create(
            kind=ActionKind.REINSTATE, user_id=user_id, flag_id=flag_id, staff_id=staff_id, reason=reason
        )
        logger.info("account reinstated", extra={"user_id": str(user_id), "staff_id": str(staff_id), "reason": reason})
    return bool(reinstated)


# --- flags ----------------------------------------------------------------------------------------
def _auto_suspends(finding: Finding) -> bool:
    return finding.severity == Severity.HIGH and finding.rule in settings.ABUSE_AUTO_SUSPEND_RULES


def _flag_upsert(finding: Finding, *, now: datetime) -> tuple[Flag | None, set[UUID]]:
    """The open flag for the finding's rule and key, created or joined by its new accounts; (None,
    ∅) when every account was in a flag of that rule and key that staff already reviewed."""
    with transaction.atomic():
        flag = (
            Flag.objects.select_for_update().filter(rule=finding.rule, key=finding.key, status=FlagStatus.OPEN).first()
        )
        if flag is None:
            if finding.user_ids <= selectors.reviewed_accounts(rule=finding.rule, key=finding.key):
                return None, set()
            flag = Flag.objects.create(
                rule=finding.rule,
                severity=finding.severity,
                key=finding.key,
                evidence=finding.evidence,
                created_at=now,
                last_seen_at=now,
            )
            known: set[UUID] = set()
        else:
            known = set(FlagUser.objects.filter(flag=flag).values_list("user_id", flat=True))
            flag.evidence, flag.last_seen_at = finding.evidence, now
            flag.severity = max(flag.severity, finding.severity, key=_SEVERITY_ORDER.index)
            flag.save(update_fields=["evidence", "last_seen_at", "severity"])
        added = set(finding.user_ids) - known
        FlagUser.objects.bulk_create([FlagUser(flag=flag, user_id=user_id) for user_id in added])
    return flag, added


def flags_raise(findings: Iterable[Finding], *, now: datetime | None = None) -> list[Flag]:
    """Record each finding as a flag (or join it to the open one of its rule and key) and return the
    flags that are new or have new accounts. Each flag is logged (a warning: the alert); a high
    finding of a rule in ABUSE_AUTO_SUSPEND_RULES suspends its new accounts at once (staff excepted),
    each in a transaction of its own."""
    now = now or timezone.now()
    raised = []
    for finding in findings:
        try:
            flag, added = _flag_upsert(finding, now=now)
        except IntegrityError:  # a parallel check opened the same flag first: join it
            flag, added = _flag_upsert(finding, now=now)
        if flag is None or not added:
            continue
        raised.append(flag)
        logger.warning(
            "abuse flag raised",
            extra={
                "flag_id": flag.pk,
                "rule": finding.rule,
                "severity": finding.severity,
                "key": finding.key,
                "users": sorted(str(user_id) for user_id in added),
            },
        )
        if _auto_suspends(finding):
            # Never staff, nor accounts staff already reviewed for this rule and key (e.g. reinstated).
            spared = set(get_user_model().objects.filter(pk__in=added, is_staff=True).values_list("pk", flat=True))
            spared |= selectors.reviewed_accounts(rule=finding.rule, key=finding.key)
            for user_id in sorted(added - spared):
                account_suspend(
                    user_id=user_id, reason=f"Automatic: {finding.rule} ({finding.key})", staff_id=None, flag_id=flag.pk
                )
    return raised


@dataclass
class ScanSummary(JobSummary):
    findings: Counter = field(default_factory=Counter)
    flags_raised: int = 0


def abuse_scan(*, now: datetime | None = None) -> ScanSummary:
    """Run every rule over the last ABUSE_SCAN_LOOKBACK_HOURS and raise a flag per finding (the beat
    job; the referral check runs the self-referral rule inline as well)."""
    now = now or timezone.now()
    since = now - timedelta(hours=settings.ABUSE_SCAN_LOOKBACK_HOURS)
    limits = thresholds()
    accounts = selectors.accounts_by_client(since=since)
    findings: list[Finding] = [
        *rules.signup_velocity(selectors.client_events(kind=ActivityKind.SIGNUP, since=since), limits),
        *rules.claim_velocity(selectors.client_events(kind=ActivityKind.DAILY_REWARD, since=since), limits),
        *rules.referral_clusters(accounts, selectors.referrers_of(set().union(*accounts.values())), limits),
        *_self_referrals(selectors.referrals_since(since=since)),
        *rules.purchase_anomalies(selectors.purchases_since(since=since), limits),
        *rules.odds_move_wins(selectors.bet_moves_since(since=since), limits),
        *rules.balance_jumps(selectors.credit_postings_since(since=since), staff_kinds=["admin_adjustment"]),
    ]
    summary = ScanSummary()
    summary.findings.update(finding.rule.value for finding in findings)
    summary.flags_raised = len(flags_raise(findings, now=now))
    return summary.finished(logger, "abuse scan finished")


def _self_referral_finding(*, referrer_id: UUID, referred_id: UUID) -> Finding | None:
    shared = selectors.shared_clients(user_id=referred_id, other_id=referrer_id)
    return rules.self_referral(
        referrer_id=referrer_id,
        referred_id=referred_id,
        shared_devices=shared.devices,
        shared_addresses=shared.addresses,
    )


def _self_referrals(pairs: Sequence[tuple[UUID, UUID]]) -> list[Finding]:
    findings = (_self_referral_finding(referrer_id=referrer, referred_id=referred) for referrer, referred in pairs)
    return [finding for finding in findings if finding is not None]


# --- inline checks --------------------------------------------------------------------------------
def referral_veto(referrer_id: UUID, referred_id: UUID) -> str | None:
    """Registered with economy: withhold a referrer's bonus when the referred account is flagged, or
    when the two accounts share a device or an address (then the self-referral flag is raised after
    the referral's transaction commits, so its suspensions never wait on the locks it holds)."""
    if selectors.is_flagged(user_id=referred_id):
        return ReferralWithheld.FLAGGED
    finding = _self_referral_finding(referrer_id=referrer_id, referred_id=referred_id)
    if finding is None:
        return None
    transaction.on_commit(lambda: flags_raise([finding]), robust=True)
    return ReferralWithheld.SHARED_DEVICE if finding.evidence["devices"] else ReferralWithheld.SHARED_ADDRESS


def bets_odds_synced(sender, *, odds, synced_at, **kwargs) -> None:
    """markets.signals.odds_synced: give the bets placed before this sync the odds that followed."""
    bets_odds_after_record(odds=odds, synced_at=synced_at)


# --- review actions -------------------------------------------------------------------------------
def _review(flag: Flag, *, status: str, staff_id: UUID, note: str) -> None:
    flag.status, flag.reviewed_by_id, flag.reviewed_at, flag.review_note = status, staff_id, timezone.now(), note
    flag.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])


def _flag_users(flag: Flag) -> list[UUID]:
    return sorted(FlagUser.objects.filter(flag=flag).values_list("user_id", flat=True))


@transaction.atomic
def flag_dismiss(*, flag_id: int, staff_id: UUID, reason: str) -> Flag:
    """Close a flag as a false alarm: its accounts are no longer flagged by it (nothing else changes)."""
    reason = _reason(reason)
    flag = Flag.objects.select_for_update().get(pk=flag_id)
    _review(flag, status=FlagStatus.DISMISSED, staff_id=staff_id, note=reason)
    AbuseAction.objects.create(kind=ActionKind.DISMISS, flag=flag, staff_id=staff_id, reason=reason)
    return flag


def flag_suspend(*, flag_id: int, staff_id: UUID, reason: str) -> int:
    """Suspend every account of the flag (each audited) and mark it actioned; how many were suspended."""
    reason = _reason(reason)
    suspended = sum(
        account_suspend(user_id=user_id, reason=reason, staff_id=staff_id, flag_id=flag_id)
        for user_id in _flag_users(Flag.objects.get(pk=flag_id))
    )
    with transaction.atomic():
        _review(
            Flag.objects.select_for_update().get(pk=flag_id), status=FlagStatus.ACTIONED, staff_id=staff_id, note=reason
        )
    return suspended


def flag_reinstate(*, flag_id: int, staff_id: UUID, reason: str) -> int:
    """Lift the suspension of every account of the flag (each audited); how many were reinstated."""
    reason = _reason(reason)
    return sum(
        account_reinstate(user_id=user_id, reason=reason, staff_id=staff_id, flag_id=flag_id)
        for user_id in _flag_users(Flag.objects.get(pk=flag_id))
    )


def flag_claw_back(
    *, flag_id: int, staff_id: UUID, reason: str, kinds: Sequence[str] = tuple(CLAWBACK_KINDS)
) -> Decimal:
    """Take back, from every account of the flag, the referral bonuses and/or daily rewards
    (`kinds`) through the ledger with the reason and the staff member (each account in its own
    transaction, with an audit row), and mark the flag actioned. Returns the credits taken."""
    reason = _reason(reason)
    total = Decimal(0)
    for user_id in _flag_users(Flag.objects.get(pk=flag_id)):
        with transaction.atomic():
            taken = credits_claw_back(user_id=user_id, kinds=kinds, reason=reason, staff_id=staff_id)
            AbuseAction.objects.create(
                kind=ActionKind.CLAW_BACK,
                user_id=user_id,
                flag_id=flag_id,
                staff_id=staff_id,
                reason=reason,
                amount=taken,
            )
        total += taken
    with transaction.atomic():
        _review(
            Flag.objects.select_for_update().get(pk=flag_id), status=FlagStatus.ACTIONED, staff_id=staff_id, note=reason
        )
    return total
