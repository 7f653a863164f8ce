from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import user_create
from polymarket.services import demo_markets_load

DEMO_STAFF_EMAIL = "admin@thisthat.local"
DEMO_STAFF_USERNAME = "admin"
DEMO_STAFF_PASSWORD = "thisthat-admin"


class Command(BaseCommand):
    help = (
        "Load demo data for local use: a staff account with known credentials and a catalogue of demo "
        "markets in Polymarket's format (development only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates an account with a published password; use --force outside DEBUG.")
        staff = User.objects.filter(email=DEMO_STAFF_EMAIL).first()
        if staff is None:
            staff = user_create(
                username=DEMO_STAFF_USERNAME,
                email=DEMO_STAFF_EMAIL,
                password=DEMO_STAFF_PASSWORD,
                is_staff=True,
                is_superuser=True,
                validate_password=False,
            )
            self.stdout.write(f"Created demo staff account {staff.username}.")
        else:
            self.stdout.write(f"Demo staff account {staff.username} already exists.")
        self.stdout.write(self.style.SUCCESS(f"Demo staff login: {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}"))
        markets = demo_markets_load()
        self.stdout.write(
            f"Demo markets: {markets.created} created, {markets.updated} updated, {markets.unchanged} unchanged"
            f" ({sum(markets.skipped.values())} skipped)."
        )
