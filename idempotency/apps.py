from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    """The `Idempotency-Key` contract for unsafe endpoints of any app (SPEC §4)."""

    name = "idempotency"
    default_auto_field = "django.db.models.BigAutoField"
