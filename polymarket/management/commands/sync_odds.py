from django.core.management.base import BaseCommand, CommandError

from polymarket.services import odds_sync


class Command(BaseCommand):
    help = "Refresh open markets' odds from Polymarket CLOB midpoints now (what the 30-second beat job does)."

    def add_arguments(self, parser):
        parser.add_argument("--max-markets", type=int, help="Markets to refresh (POLYMARKET_ODDS_SYNC_MAX_MARKETS).")

    def handle(self, *args, max_markets: int | None, **options):
        if max_markets is not None and max_markets < 1:
            raise CommandError("--max-markets must be at least 1.")
        summary = odds_sync(max_markets=max_markets, progress=self.stdout.write)
        for error in summary.errors:
            self.stderr.write(f"problem: {error}")
        line = (
            f"Synced odds of {summary.updated} of {summary.markets} markets in {summary.requests} requests "
            f"({summary.without_price} without a price) in {summary.duration_seconds:.2f}s"
        )
        if summary.requests and len(summary.errors) == summary.requests:
            raise CommandError(f"{line} — Polymarket could not be read.")
        self.stdout.write(self.style.SUCCESS(line) if not summary.errors else self.style.WARNING(line))
