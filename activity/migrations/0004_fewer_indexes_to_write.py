import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# activity_user_time_idx leads with user_id, so the foreign key's own index only cost a write per
# activity row. Dropped by name: Django's AlterField would also drop and re-add (re-validate) the
# foreign key constraint.
_DROP = 'DROP INDEX IF EXISTS "activity_activity_user_id_0667c221"'
_RESTORE = 'CREATE INDEX "activity_activity_user_id_0667c221" ON "activity_activity" ("user_id")'


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0003_activity_stock_trades"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunSQL(_DROP, reverse_sql=_RESTORE)],
        ),
    ]
