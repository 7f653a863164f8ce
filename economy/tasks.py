"""Thin periodic jobs of the economy (scheduled in thisthat/beat.py)."""

from celery import shared_task

from thisthat.locks import single_instance

from . import services


@shared_task
@single_instance(timeout=55 * 60)
def reconcile_ledger() -> int:
    """Hourly audit: an error line for each user whose balance differs from their ledger sum."""
    return len(services.ledger_audit().mismatches)
