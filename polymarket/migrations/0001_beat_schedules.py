"""Schedule the Polymarket jobs in django-celery-beat (created once; staff may edit them in the admin).

The schedule itself is thisthat/beat.py (one table for every job).
"""

from django.db import migrations

from thisthat import beat


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = beat.migration_operations("Ingest Polymarket markets", "Sync Polymarket odds")
