"""Schedule the economy's periodic jobs in django-celery-beat: the hourly ledger audit and the
daily purge of expired Idempotency-Key records.

Created once; staff may change or disable them in the admin afterwards.
"""

from django.db import migrations

SCHEDULES = [
    ("Reconcile the credit ledger", "economy.tasks.reconcile_ledger", {"minute": "7", "hour": "*"}),
    ("Purge expired idempotency keys", "economy.tasks.purge_idempotency_keys", {"minute": "41", "hour": "4"}),
]


def add_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, when in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            **when, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("economy", "0003_seed_credit_packages"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
