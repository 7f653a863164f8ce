from celery import shared_task

from . import services
from .tokens import refresh_tokens_purge_expired


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset_email(email: str) -> None:
    services.password_reset_email_send(email=email)


@shared_task
def flush_expired_tokens() -> dict:
    """Delete expired sessions and refresh-token records (daily, from beat); idempotent."""
    return refresh_tokens_purge_expired().as_dict()
