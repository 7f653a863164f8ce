from django.apps import AppConfig


class BettingConfig(AppConfig):
    name = "betting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from markets.dependents import register_open_positions, register_traded_check

        from .selectors import markets_with_bets, pending_bets_exist

        register_traded_check(markets_with_bets)
        register_open_positions(pending_bets_exist)
