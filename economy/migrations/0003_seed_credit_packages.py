"""Seed the four credit packs of SPEC §6 ($1 buys 100 credits, bigger packs a little more).

Created once; staff edit, add or retire packages in the admin afterwards.
"""

from decimal import Decimal

from django.db import migrations

PACKAGES = [
    ("Starter", Decimal("500"), Decimal("4.99")),
    ("Popular", Decimal("1200"), Decimal("9.99")),
    ("Pro", Decimal("3000"), Decimal("19.99")),
    ("Whale", Decimal("8000"), Decimal("49.99")),
]


def seed(apps, schema_editor):
    CreditPackage = apps.get_model("economy", "CreditPackage")
    for order, (name, credits, price) in enumerate(PACKAGES, start=1):
        CreditPackage.objects.get_or_create(
            name=name, defaults={"credits": credits, "price_usd": price, "sort_order": order * 10}
        )


def unseed(apps, schema_editor):
    CreditPackage = apps.get_model("economy", "CreditPackage")
    CreditPackage.objects.filter(name__in=[name for name, _, _ in PACKAGES], purchases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("economy", "0002_credits_economy")]

    operations = [migrations.RunPython(seed, unseed)]
