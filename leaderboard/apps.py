from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from betting.signals import market_settled, market_settlement_reversed

        from .tasks import recompute_ranks_soon

        # Ranks also refresh every 15 minutes; a settlement or its correction asks for fresh ones sooner.
        market_settled.connect(lambda sender, **_: recompute_ranks_soon(), weak=False, dispatch_uid="leaderboard")
        market_settlement_reversed.connect(
            lambda sender, **_: recompute_ranks_soon(), weak=False, dispatch_uid="leaderboard-corrections"
        )
