"""Schema operations the apps' migrations share."""

from django.db import migrations, models


def foreign_key_own_index_dropped(
    *, model_name: str, name: str, field: models.ForeignKey, table: str, index: str
) -> migrations.SeparateDatabaseAndState:
    """A foreign key's own index dropped (the field becomes `db_index=False`) where a composite index
    already leads with its column: one index fewer to write per row. Dropped by name, because Django's
    AlterField would also drop and re-add, so re-validate, the foreign key constraint."""
    column = f"{name}_id"
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"', reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")'
            )
        ],
    )
