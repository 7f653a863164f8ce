"""Questions about referrals that only the apps above economy can answer (is the referred account
flagged? do the two accounts share a device or an address?). Those apps register their answers in
AppConfig.ready(); economy never imports them (README "Layers")."""

from collections.abc import Callable
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
