"""Schedule the Polymarket jobs in django-celery-beat (created once; staff may edit them in the admin)."""

from django.db import migrations

SCHEDULES = [
    ("Ingest Polymarket markets", "polymarket.tasks.ingest_markets", 5, "minutes"),
    ("Sync Polymarket odds", "polymarket.tasks.sync_odds", 30, "seconds"),
]


def add_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def remove_schedules(apps, schema_editor):
    names = [name for name, *_ in SCHEDULES]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
