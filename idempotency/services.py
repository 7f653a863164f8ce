from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import IdempotencyKey


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_HOURS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
