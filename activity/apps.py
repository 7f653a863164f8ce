from django.apps import AppConfig


class ActivityConfig(AppConfig):
    """Activity signals: who signed up, logged in, claimed, bought, bet or cashed out from which
    address and device. Written by the services of the apps above, read by the anti-abuse rules."""

    name = "activity"
    default_auto_field = "django.db.models.BigAutoField"
