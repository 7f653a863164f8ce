from celery import shared_task


@shared_task
def recompute_ranks() -> None:
    """Recompute PnL and volume ranks; enqueued after every settlement. The leaderboard issue fills it in."""
