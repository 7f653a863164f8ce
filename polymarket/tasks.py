from celery import shared_task

from thisthat.locks import single_instance

from . import services
from .resolution import resolutions_poll


@shared_task
@single_instance(timeout=15 * 60)
def ingest_markets() -> dict:
    """Every 5 minutes (beat) and on demand; one run at a time across all workers."""
    return services.markets_ingest().as_dict()


@shared_task
@single_instance(timeout=5 * 60)
def sync_odds() -> dict:
    """Every 30 seconds (beat); a run still going makes the next one skip."""
    return services.odds_sync().as_dict()


@shared_task
@single_instance(timeout=5 * 60)
def poll_resolutions() -> dict:
    """Every 60 seconds (beat); a run still going makes the next one skip."""
    return resolutions_poll().as_dict()
