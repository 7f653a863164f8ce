import logging

from celery import shared_task

from thisthat.locks import single_instance

from . import services

logger = logging.getLogger(__name__)


@shared_task
@single_instance(timeout=60 * 60)
def purge_idempotency_keys() -> int:
    """Daily (thisthat/beat.py): forget Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_HOURS."""
    deleted = services.idempotency_keys_purge()
    logger.info("idempotency keys purged", extra={"deleted": deleted})
    return deleted
