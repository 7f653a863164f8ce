from django.core.management.base import BaseCommand, CommandError

from betting.errors import MarketNotResolved
from betting.services import SETTLEMENT_CHUNK, market_settle
from markets.errors import MarketNotFound


class Command(BaseCommand):
    help = "Settle every pending bet of a resolved market now (resumable; safe to run again or twice at once)."

    def add_arguments(self, parser):
        parser.add_argument("market_id", help="The market's UUID.")
        parser.add_argument("--chunk-size", type=int, default=SETTLEMENT_CHUNK, help="Bets per transaction.")

    def handle(self, *args, market_id: str, chunk_size: int, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        try:
            summary = market_settle(market_id=market_id, chunk_size=chunk_size, progress=self.stdout.write)
        except (MarketNotFound, MarketNotResolved) as exc:
            raise CommandError(f"{exc.message} ({market_id})") from exc
        bets = ", ".join(f"{count} {status}" for status, count in sorted(summary.bets.items())) or "no pending bets"
        if summary.stopped:
            raise CommandError(f"Stopped after {summary.chunks} chunks ({bets}): {summary.stopped}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Settled market {summary.market_id} ({summary.outcome}) in {summary.chunks} chunks, "
                f"{summary.duration_seconds:.2f}s: {bets}; {summary.paid} credits paid."
            )
        )
