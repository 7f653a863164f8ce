"""Questions that only the apps above economy can answer: about referrals (is the referred account
flagged? do the two accounts share a device or an address?) and what else the ledger audit checks (a
stock's supply and reserve). Those apps register their answers in AppConfig.ready(); economy never
imports them (README "Layers")."""

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

# (referrer_id, referred_id) → why the referrer's bonus must be withheld (a ReferralWithheld value), or None.
ReferralVeto = Callable[[UUID, UUID], str | None]

_referral_vetoes: list[ReferralVeto] = []


def register_referral_veto(veto: ReferralVeto) -> None:
    if veto not in _referral_vetoes:
        _referral_vetoes.append(veto)


def referral_veto(*, referrer_id: UUID, referred_id: UUID) -> str | None:
    """The first reason any registered veto gives to withhold this referral's bonus."""
    for veto in _referral_vetoes:
        reason = veto(referrer_id, referred_id)
        if reason:
            return reason
    return None


# Checks the ledger audit runs besides the balances (e.g. stocks: supply and reserve), each returning
# its findings; registered by the apps that own what they check.
@dataclass(frozen=True)
class AuditFinding:
    check: str  # the registered name, e.g. "stocks"
    subject: str  # what does not add up, e.g. a stock's symbol
    message: str


AuditCheck = Callable[[], list[AuditFinding]]

_audits: dict[str, AuditCheck] = {}


def register_audit(name: str, check: AuditCheck) -> None:
    _audits[name] = check


def audits_run() -> list[AuditFinding]:
    """Every registered check's findings, in the order they were registered."""
    return [finding for check in _audits.values() for finding in check()]
