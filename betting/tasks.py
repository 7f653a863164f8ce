from uuid import UUID

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def settle_market(market_id: str) -> dict:
    """Settle a resolved market's bets; idempotent and resumable, so retries and duplicates are safe."""
    return services.market_settle(market_id=UUID(market_id)).as_dict()
