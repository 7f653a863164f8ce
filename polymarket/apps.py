from django.apps import AppConfig


class PolymarketConfig(AppConfig):
    name = "polymarket"
    default_auto_field = "django.db.models.BigAutoField"
