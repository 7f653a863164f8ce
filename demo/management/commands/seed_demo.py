from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.services import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, demo_seed


class Command(BaseCommand):
    help = (
        "Load demo data for local use: a staff account with known credentials and a catalogue of demo "
        "markets in Polymarket's format, and a few virtual stocks (development only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates an account with a published password; use --force outside DEBUG.")
        seeded = demo_seed()
        verb = "Created" if seeded.staff_created else "Kept the existing"
        self.stdout.write(f"{verb} demo staff account {seeded.staff.username}.")
        self.stdout.write(self.style.SUCCESS(f"Demo staff login: {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}"))
        markets = seeded.markets
        self.stdout.write(
            f"Demo markets: {markets.created} created, {markets.updated} updated, {markets.unchanged} unchanged"
            f" ({sum(markets.skipped.values())} skipped)."
        )
        self.stdout.write(f"Demo stocks: {seeded.stocks_created} listed.")
