"""Schedule the daily purge of activity signals older than ACTIVITY_RETENTION_DAYS (thisthat/beat.py)."""

from django.db import migrations

from thisthat import beat


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = beat.migration_operations("Purge old activity signals")
