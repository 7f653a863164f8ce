from django.apps import AppConfig


class AbuseConfig(AppConfig):
    """Anti-abuse: the rules over every app's activity, flags and their review, suspensions and
    clawbacks. It sits above betting: the apps below announce or ask, and never import it."""

    name = "abuse"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from economy.dependents import register_referral_veto
        from markets.signals import odds_synced

        from .services import bets_odds_synced, referral_veto

        register_referral_veto(referral_veto)
        odds_synced.connect(bets_odds_synced, dispatch_uid="abuse.bets_odds_synced")
