"""Thin periodic jobs of the economy (scheduled in thisthat/beat.py)."""

from uuid import UUID

from celery import shared_task
from django.db import OperationalError

from thisthat.locks import single_instance

from . import services


@shared_task
@single_instance(timeout=55 * 60)
def reconcile_ledger() -> int:
    """Hourly audit: an error line for each user whose balance differs from their ledger sum, and for
    each finding of the registered checks (stocks)."""
    return services.ledger_audit().problems


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def settle_referral(referred_id: str) -> None:
    """Queued when a referred user's first qualifying bet commits; safe to run again."""
    services.referral_settle(referred_id=UUID(referred_id))


@shared_task
@single_instance(timeout=10 * 60)
def settle_due_referrals() -> dict:
    """Every 5 minutes: settle qualified referrals whose queued settlement was lost."""
    return services.referrals_settle_due().as_dict()


@shared_task
@single_instance(timeout=60 * 60)
def expire_inactive_credits() -> dict:
    """Daily: expire credits of long-inactive accounts (only with CREDIT_EXPIRY_ENABLED)."""
    return services.credits_expire_inactive().as_dict()
