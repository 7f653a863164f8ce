import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The user indexes (bet_user_recent_idx, bet_user_status_idx) lead with user_id, so the foreign key's
# own index only cost a write per bet. Dropped by name: Django's AlterField would also drop and
# re-add (re-validate) the foreign key constraint.
_DROP = 'DROP INDEX IF EXISTS "betting_bet_user_id_6350abff"'
_RESTORE = 'CREATE INDEX "betting_bet_user_id_6350abff" ON "betting_bet" ("user_id")'


class Migration(migrations.Migration):
    dependencies = [
        ("betting", "0003_resolution_correction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="bet",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunSQL(_DROP, reverse_sql=_RESTORE)],
        ),
    ]
