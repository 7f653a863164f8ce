import logging

from celery import shared_task

from thisthat.locks import single_instance

from . import services

logger = logging.getLogger(__name__)


@shared_task
@single_instance(timeout=60 * 60)
def purge_activity() -> int:
    """Daily (thisthat/beat.py): forget activity signals older than ACTIVITY_RETENTION_DAYS."""
    deleted = services.activity_purge()
    logger.info("activity purged", extra={"deleted": deleted})
    return deleted
