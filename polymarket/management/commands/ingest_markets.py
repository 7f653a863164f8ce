import json

from django.core.management.base import BaseCommand, CommandError

from polymarket.services import markets_ingest


class Command(BaseCommand):
    help = "Ingest Polymarket's most traded open markets now (what the 5-minute beat job does)."

    def add_arguments(self, parser):
        parser.add_argument("--max-markets", type=int, help="Markets to keep (default: POLYMARKET_INGEST_MAX_MARKETS).")
        parser.add_argument(
            "--max-pages", type=int, help="Pages to read at most (default POLYMARKET_INGEST_MAX_PAGES)."
        )

    def handle(self, *args, max_markets: int | None, max_pages: int | None, **options):
        for name, value in (("--max-markets", max_markets), ("--max-pages", max_pages)):
            if value is not None and value < 1:
                raise CommandError(f"{name} must be at least 1.")
        summary = markets_ingest(max_markets=max_markets, max_pages=max_pages, progress=self.stdout.write)
        for error in summary.errors:
            self.stderr.write(f"problem: {error}")
        line = (
            f"Ingested {summary.pages} pages ({summary.fetched} rows) in {summary.duration_seconds:.2f}s: "
            f"{summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged, "
            f"{sum(summary.skipped.values())} skipped {json.dumps(dict(summary.skipped), sort_keys=True)}"
        )
        if not summary.pages:
            raise CommandError(f"{line} — Polymarket could not be read.")
        self.stdout.write(self.style.SUCCESS(line) if not summary.errors else self.style.WARNING(line))
