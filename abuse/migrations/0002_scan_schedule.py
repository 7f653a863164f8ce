"""Schedule the anti-abuse scan every 10 minutes (thisthat/beat.py)."""

from django.db import migrations

from thisthat import beat


class Migration(migrations.Migration):
    dependencies = [
        ("abuse", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = beat.migration_operations("Scan for abuse")
