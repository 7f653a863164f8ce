import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from thisthat.schema import foreign_key_own_index_dropped

# activity_user_time_idx leads with user_id.


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0003_activity_stock_trades"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        foreign_key_own_index_dropped(
            model_name="activity",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
            table="activity_activity",
            index="activity_activity_user_id_0667c221",
        ),
    ]
