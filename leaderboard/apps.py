from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from accounts.dependents import register_profile_ranks
        from betting.signals import bets_changed, market_settled, market_settlement_reversed

        from .selectors import profile_rank_sql
        from .tasks import recompute_ranks_if_never_computed, recompute_ranks_soon

        # Profiles show the all-time ranks of the latest standings, read with the user row.
        register_profile_ranks(profile_rank_sql)

        # Ranks also refresh every 15 minutes; a settlement, its correction, a bet or a cash-out asks
        # for fresh ones sooner (a burst coalesces into one run a few seconds later).
        market_settled.connect(lambda sender, **_: recompute_ranks_soon(), weak=False, dispatch_uid="leaderboard")
        market_settlement_reversed.connect(
            lambda sender, **_: recompute_ranks_soon(), weak=False, dispatch_uid="leaderboard-corrections"
        )
        bets_changed.connect(lambda sender, **_: recompute_ranks_soon(), weak=False, dispatch_uid="leaderboard")
        # A fresh install has boards as soon as a worker is up, not after the first 15-minute run.
        worker_ready.connect(
            lambda sender, **_: recompute_ranks_if_never_computed.delay(), weak=False, dispatch_uid="leaderboard"
        )
