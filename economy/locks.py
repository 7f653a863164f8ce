"""Row locks on users' balances, taken the same way by every writer (the ledger, rewards, purchases,
referrals). FOR NO KEY UPDATE: it excludes other balance writers but not rows that merely reference
the user (a new bet or ledger row). Lock order everywhere: markets first (markets.locks), then users
in id order."""

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.contrib.auth import get_user_model


@dataclass
class LockedBalance:
    balance: Decimal
    overall_pnl: Decimal
    debt: Decimal = Decimal(0)
    # Read with the lock, so the guards cost no query of their own.
    suspended: bool = False
    referral_pending: bool = False


def user_lock(*, user_id: UUID) -> LockedBalance:
    """Lock one user's row until the transaction ends and return the balance it holds."""
    return users_lock(user_ids=[user_id])[user_id]


def users_lock(*, user_ids: Collection[UUID]) -> dict[UUID, LockedBalance]:
    """Lock users' rows in id order (so two writers can never deadlock); a missing user is DoesNotExist."""
    user_model = get_user_model()
    rows = (
        user_model.objects.select_for_update(no_key=True)
        .filter(pk__in=set(user_ids))
        .order_by("pk")
        .values_list("pk", "credit_balance", "overall_pnl", "credit_debt", "suspended_at", "referral_pending")
    )
    locked = {
        pk: LockedBalance(balance, pnl, debt, suspended=suspended_at is not None, referral_pending=pending)
        for pk, balance, pnl, debt, suspended_at, pending in rows
    }
    if len(locked) != len(set(user_ids)):
        raise user_model.DoesNotExist(f"no user with id {sorted(set(user_ids) - set(locked))}")
    return locked
