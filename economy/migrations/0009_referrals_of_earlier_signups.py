"""A Referral row for every account that joined with a code before referrals had rows: paid when
the referrer's bonus for it is on the ledger, else withheld (the referrer was past the bonus cap or
at the balance cap, which the old sign-up could not tell apart)."""

from django.db import migrations


def forward(apps, schema_editor):
    user_model = apps.get_model("accounts", "User")
    ledger = apps.get_model("economy", "LedgerEntry")
    referral_model = apps.get_model("economy", "Referral")
    referred = user_model.objects.filter(referred_by__isnull=False).values_list("pk", "referred_by_id", "created_at")
    for user_id, referrer_id, joined_at in referred.iterator(chunk_size=1000):
        paid = (
            ledger.objects.filter(user_id=referrer_id, kind="referral_bonus", reference_id=user_id)
            .values_list("amount", flat=True)
            .first()
        )
        referral_model.objects.get_or_create(
            referred_id=user_id,
            defaults={
                "referrer_id": referrer_id,
                "status": "paid" if paid else "withheld",
                "bonus": paid or 0,
                "reason": "" if paid else "bonus_cap",
                "decided_at": joined_at,
                "created_at": joined_at,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("economy", "0008_referrals_clawbacks_and_expiry"),
        ("accounts", "0006_user_suspension_and_referral_pending"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
