"""Schedule the rank recomputation every 15 minutes in django-celery-beat (editable in the admin).

The schedule itself is thisthat/beat.py (one table for every job).
"""

from django.db import migrations

from thisthat import beat


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = beat.migration_operations("Recompute leaderboard ranks")
