from celery import shared_task
from django.core.management import call_command

from . import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset_email(email: str) -> None:
    services.password_reset_email_send(email=email)


@shared_task
def flush_expired_tokens() -> None:
    """Delete refresh-token records past their expiry (daily, from beat); idempotent."""
    call_command("flushexpiredtokens")
