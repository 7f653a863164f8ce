"""Schedule the daily clean-up of expired refresh-token records in django-celery-beat.

Created once; staff may change or disable it in the admin afterwards.

The schedule itself is thisthat/beat.py (one table for every job).
"""

from django.db import migrations

from thisthat import beat


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = beat.migration_operations("Flush expired refresh tokens")
