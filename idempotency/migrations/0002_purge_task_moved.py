"""The purge task moved from economy.tasks to idempotency.tasks: point an existing beat row at it."""

from django.db import migrations

OLD, NEW = "economy.tasks.purge_idempotency_keys", "idempotency.tasks.purge_idempotency_keys"


def forward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=OLD).update(task=NEW)


def backward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=NEW).update(task=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("idempotency", "0001_initial"),
        ("economy", "0004_economy_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
