from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from economy.selectors import users_with_unreconciled_balance


class Command(BaseCommand):
    help = "Check that every user's balance equals the sum of their ledger rows; exit 1 naming each mismatch."

    def handle(self, *args, **options):
        total = get_user_model().objects.count()
        self.stdout.write(f"Reconciling {total} users against the ledger…")
        mismatches = 0
        for user in users_with_unreconciled_balance().iterator(chunk_size=1000):
            mismatches += 1
            self.stderr.write(
                f"MISMATCH user={user.pk} username={user.username} "
                f"balance={user.credit_balance} ledger={user.ledger_total} "
                f"diff={user.credit_balance - user.ledger_total}"
            )
        if mismatches:
            raise CommandError(f"{mismatches} of {total} users do not reconcile with the ledger.")
        self.stdout.write(self.style.SUCCESS(f"OK: all {total} users reconcile with the ledger."))
