"""The one door for credits: every balance change is posted here, with its ledger row, in one
transaction, under a row lock on the user."""

from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F

from .errors import BalanceLimit, DuplicateLedgerPosting, InsufficientBalance
from .models import ONCE_PER_REFERENCE, LedgerEntry, LedgerKind

CENT = Decimal("0.01")


@transaction.atomic
def ledger_post(
    *,
    user_id: UUID,
    amount: Decimal,
    kind: LedgerKind,
    reference_id: UUID | None = None,
    description: str = "",
    enforce_cap: bool = False,
    volume: Decimal = Decimal(0),
    created_by_id: UUID | None = None,
) -> LedgerEntry:
    """Apply `amount` (signed) to the user's balance and record it.

    Callers that lock several users must call this in user-id order (after any market lock).
    `enforce_cap` refuses credits that would lift the balance over MAX_CREDIT_BALANCE (rewards,
    bonuses, purchases); payouts, refunds and sales never pass it.
    """
    if amount != amount.quantize(CENT) or amount == 0:
        raise ValueError(f"ledger amount must be a non-zero number of cents, got {amount}")
    if kind in ONCE_PER_REFERENCE and reference_id is None:
        raise ValueError(f"a {kind} posting needs the reference it happens once for")
    users = get_user_model().objects
    balance = users.select_for_update(no_key=True).values_list("credit_balance", flat=True).get(pk=user_id)
    new_balance = balance + amount
    if new_balance < 0:
        raise InsufficientBalance(details={"balance": balance})
    if enforce_cap and amount > 0 and new_balance > settings.MAX_CREDIT_BALANCE:
        raise BalanceLimit(details={"balance": balance, "maxBalance": settings.MAX_CREDIT_BALANCE})
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                user_id=user_id,
                amount=amount,
                kind=kind,
                reference_id=reference_id,
                balance_after=new_balance,
                description=description,
                created_by_id=created_by_id,
            )
    except IntegrityError as exc:  # the once-per-reference constraints have the last word
        raise DuplicateLedgerPosting(details={"kind": kind, "referenceId": reference_id}) from exc
    users.filter(pk=user_id).update(credit_balance=new_balance, total_volume=F("total_volume") + volume)
    return entry
