from django.apps import AppConfig


class StocksConfig(AppConfig):
    """Virtual stocks on bonding curves. Below betting (the portfolio shows holdings), beside markets and
    accounts; it posts through economy's ledger and lends economy's audit its own check."""

    name = "stocks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from economy.dependents import register_audit

        from .selectors import stocks_audit

        register_audit("stocks", stocks_audit)
