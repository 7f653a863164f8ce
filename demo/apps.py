from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run` (development only): it sits on top of every other app."""

    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"
