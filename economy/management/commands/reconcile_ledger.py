from django.core.management.base import BaseCommand, CommandError

from economy.services import ledger_audit


class Command(BaseCommand):
    help = (
        "Check that every user's balance minus credit debt equals the sum of their ledger rows, and run the "
        "registered checks (each stock's supply and reserve); exit 1 naming each mismatch."
    )

    def handle(self, *args, **options):
        self.stdout.write("Reconciling every user against the ledger…")
        audit = ledger_audit()
        for mismatch in audit.mismatches:
            self.stderr.write(
                f"MISMATCH user={mismatch.user_id} username={mismatch.username} balance={mismatch.balance} "
                f"debt={mismatch.debt} ledger={mismatch.ledger_total} diff={mismatch.difference}"
            )
        for finding in audit.findings:
            self.stderr.write(f"MISMATCH {finding.check}={finding.subject} {finding.message}")
        if audit.mismatches:
            raise CommandError(f"{len(audit.mismatches)} of {audit.users} users do not reconcile with the ledger.")
        if audit.findings:
            raise CommandError(f"{len(audit.findings)} audit findings (users reconcile with the ledger).")
        self.stdout.write(self.style.SUCCESS(f"OK: all {audit.users} users reconcile with the ledger."))
