from datetime import timedelta
from uuid import UUID

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from thisthat.locks import single_instance

from . import selectors, services
from .errors import MarketNotResolved

# A settlement normally finishes within seconds of its resolution; older unfinished ones are re-queued.
SETTLEMENT_GRACE = timedelta(minutes=2)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def settle_market(market_id: str) -> dict:
    """Settle a resolved market's bets; idempotent and resumable, so retries and duplicates are safe.
    A market whose resolution was corrected (unresolved) before the task ran has nothing to settle."""
    try:
        return services.market_settle(market_id=UUID(market_id)).as_dict()
    except MarketNotResolved as exc:
        return {"market_id": market_id, "skipped": exc.message}


@shared_task
@single_instance(timeout=5 * 60)
def settle_unfinished_markets() -> int:
    """Every minute (beat): re-queue settlements that never finished (a lost message, a killed worker)."""
    market_ids = selectors.markets_awaiting_settlement(resolved_before=timezone.now() - SETTLEMENT_GRACE)
    for market_id in market_ids:
        settle_market.delay(str(market_id))
    return len(market_ids)
