from django.core.management.base import BaseCommand, CommandError

from leaderboard.services import ranks_recompute


class Command(BaseCommand):
    help = "Recompute every period's PnL and volume standings and the profile ranks now (the 15-minute job)."

    def handle(self, *args, **options):
        self.stdout.write("Recomputing standings for all, month, week and day…")
        run = ranks_recompute()
        if run is None:
            raise CommandError("Another recomputation is running; try again when it has finished.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Ranked {run.ranked['all']['pnl']} users by PnL and {run.ranked['all']['volume']} by volume"
                f" (all time, of {run.users} active) in {run.duration_seconds:.2f}s "
                f"(as of {run.computed_at:%Y-%m-%d %H:%M:%S} UTC)."
            )
        )
