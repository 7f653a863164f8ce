from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """The first response to a request sent with an `Idempotency-Key` header, replayed to retries
    (SPEC §4). Keys are per user; `request_fingerprint` tells a retry from a different request."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=32, help_text="The operation the key was first used for, e.g. purchases.")
    request_fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and JSON body.")
    # Written in the same transaction as the key row, so other transactions never see them empty.
    response_status = models.PositiveSmallIntegerField(null=True)
    # JSON text rather than jsonb, which would reorder the keys: a replay is byte-for-byte the same.
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "economy_idempotency_key"
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created_idx")]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.scope}: {self.key}"
