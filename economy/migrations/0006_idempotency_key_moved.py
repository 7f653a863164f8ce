"""IdempotencyKey now belongs to the idempotency app: removed from economy's state only (the table stays)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("economy", "0005_ledger_one_return_per_bet"),
        ("idempotency", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="IdempotencyKey")]),
    ]
