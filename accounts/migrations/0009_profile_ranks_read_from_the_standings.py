from django.db import migrations

# Profiles read their all-time ranks from the leaderboard's standings (accounts.selectors.profile_get).
# The columns leave the model now but stay in the table for one release: processes of the previous
# release still select them while a deploy replaces them. The next release's migration drops them.


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_session_end_reason_deactivated"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="user", name="rank_by_pnl"),
                migrations.RemoveField(model_name="user", name="rank_by_volume"),
            ],
        ),
    ]
