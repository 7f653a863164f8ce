"""Schedule the resolution poller in django-celery-beat (created once; staff may edit it in the admin).

The schedule itself is thisthat/beat.py (one table for every job).
"""

from django.db import migrations

from thisthat import beat


class Migration(migrations.Migration):
    dependencies = [("polymarket", "0001_beat_schedules")]

    operations = beat.migration_operations("Poll Polymarket resolutions")
