import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from thisthat.schema import foreign_key_own_index_dropped

# The user indexes (ledger_user_recent_idx, ledger_user_kind_idx) lead with user_id, and almost no
# row names a staff member: the staff column keeps a partial index for the rows that have one, built
# without blocking postings on PostgreSQL (CONCURRENTLY, hence a non-atomic migration).
_STAFF_INDEX = (
    'INDEX {concurrently} IF NOT EXISTS "ledger_created_by_idx" ON "economy_ledger_entry" ("created_by_id") '
    'WHERE "created_by_id" IS NOT NULL'
)


def _concurrently(schema_editor) -> str:
    return "CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def _staff_index_create(apps, schema_editor) -> None:
    schema_editor.execute("CREATE " + _STAFF_INDEX.format(concurrently=_concurrently(schema_editor)))


def _staff_index_drop(apps, schema_editor) -> None:
    schema_editor.execute(f'DROP INDEX {_concurrently(schema_editor)} IF EXISTS "ledger_created_by_idx"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("economy", "0013_ledger_stock_kinds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="ledgerentry",
                    index=models.Index(
                        condition=models.Q(("created_by__isnull", False)),
                        fields=["created_by"],
                        name="ledger_created_by_idx",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(_staff_index_create, _staff_index_drop)],
        ),
        foreign_key_own_index_dropped(
            model_name="ledgerentry",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The staff member behind an admin adjustment.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
            table="economy_ledger_entry",
            index="economy_ledger_entry_created_by_id_e4733602",
        ),
        foreign_key_own_index_dropped(
            model_name="ledgerentry",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entries",
                to=settings.AUTH_USER_MODEL,
            ),
            table="economy_ledger_entry",
            index="economy_ledger_entry_user_id_9aab79e6",
        ),
    ]
