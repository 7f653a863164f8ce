"""The Idempotency-Key table moves here from economy in the state only: it keeps its name and rows."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

KEY_MODEL = migrations.CreateModel(
    name="IdempotencyKey",
    fields=[
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
        ("key", models.CharField(max_length=255)),
        (
            "scope",
            models.CharField(help_text="The operation the key was first used for, e.g. purchases.", max_length=32),
        ),
        ("request_fingerprint", models.CharField(help_text="sha256 of method, path and JSON body.", max_length=64)),
        ("response_status", models.PositiveSmallIntegerField(null=True)),
        ("response_body", models.TextField(blank=True)),
        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
        (
            "user",
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
    ],
    options={
        "db_table": "economy_idempotency_key",
        "indexes": [models.Index(fields=["created_at"], name="idempotency_key_created_idx")],
        "constraints": [models.UniqueConstraint(fields=("user", "key"), name="idempotency_key_unique_per_user")],
    },
)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("economy", "0005_ledger_one_return_per_bet"),  # the table exists by then
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[KEY_MODEL])]
