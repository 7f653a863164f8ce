"""Schedule the resolution poller in django-celery-beat (created once; staff may edit it in the admin)."""

from django.db import migrations

NAME, TASK = "Poll Polymarket resolutions", "polymarket.tasks.poll_resolutions"


def add_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": interval})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("polymarket", "0001_beat_schedules")]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
