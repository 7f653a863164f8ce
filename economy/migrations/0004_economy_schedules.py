"""Schedule the economy's periodic jobs in django-celery-beat: the hourly ledger audit and the
daily purge of expired Idempotency-Key records.

Created once; staff may change or disable them in the admin afterwards.

The schedule itself is thisthat/beat.py (one table for every job).
"""

from django.db import migrations

from thisthat import beat


class Migration(migrations.Migration):
    dependencies = [
        ("economy", "0003_seed_credit_packages"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = beat.migration_operations("Reconcile the credit ledger", "Purge expired idempotency keys")
