"""Schedule the sweep of due referral bonuses and the daily inactivity expiry (a no-op unless
CREDIT_EXPIRY_ENABLED). The schedule itself is thisthat/beat.py."""

from django.db import migrations

from thisthat import beat


class Migration(migrations.Migration):
    dependencies = [
        ("economy", "0009_referrals_of_earlier_signups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = beat.migration_operations("Settle due referrals", "Expire inactive credits")
