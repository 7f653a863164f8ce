"""Thin periodic jobs of the economy (scheduled in thisthat/beat.py)."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from thisthat.locks import single_instance

from .selectors import users_with_unreconciled_balance

logger = logging.getLogger(__name__)


@shared_task
@single_instance(timeout=55 * 60)
def reconcile_ledger() -> int:
    """Hourly audit: log an error line for each user whose balance differs from their ledger sum."""
    mismatches = 0
    for user in users_with_unreconciled_balance().iterator(chunk_size=1000):
        mismatches += 1
        logger.error(
            "ledger mismatch",
            extra={
                "user_id": str(user.pk),
                "username": user.username,
                "balance": str(user.credit_balance),
                "ledger_total": str(user.ledger_total),
                "difference": str(user.credit_balance - user.ledger_total),
            },
        )
    total = get_user_model().objects.count()
    log = logger.error if mismatches else logger.info
    log("ledger reconciled", extra={"users": total, "mismatches": mismatches})
    return mismatches
