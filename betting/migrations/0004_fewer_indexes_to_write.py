import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from thisthat.schema import foreign_key_own_index_dropped

# The user indexes (bet_user_recent_idx, bet_user_status_idx) lead with user_id.


class Migration(migrations.Migration):
    dependencies = [
        ("betting", "0003_resolution_correction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        foreign_key_own_index_dropped(
            model_name="bet",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="bets",
                to=settings.AUTH_USER_MODEL,
            ),
            table="betting_bet",
            index="betting_bet_user_id_6350abff",
        ),
    ]
