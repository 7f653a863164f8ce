import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import User
from demo.services import DEMO_STAFF_EMAIL, demo_seed
from markets.models import Market
from stocks.models import Stock
from tests.helpers.assertions import assert_ledger_reconciles

pytestmark = pytest.mark.django_db


def test_the_demo_catalogue_loads_through_the_ingestion_mapping_and_seeding_is_idempotent():
    first = demo_seed()
    second = demo_seed()

    assert first.staff_created and not second.staff_created
    assert (first.stocks_created, second.stocks_created) == (3, 0)
    assert list(Stock.objects.filter(trading_enabled=True).values_list("symbol", flat=True)) == ["POLY", "THAT", "THIS"]
    assert first.markets.created >= 30 and first.markets.skipped == {}
    assert (second.markets.created, second.markets.updated) == (0, 0)
    assert Market.objects.values("category").distinct().count() >= 5
    assert not Market.objects.filter(this_odds__isnull=True).exists()
    assert User.objects.filter(email=DEMO_STAFF_EMAIL, is_staff=True).count() == 1
    assert_ledger_reconciles()


@override_settings(DEBUG=True)
def test_seed_demo_prints_the_staff_login_and_the_catalogue(capsys):
    call_command("seed_demo")

    out = capsys.readouterr().out
    assert "Demo staff login: admin@thisthat.local / thisthat-admin" in out
    assert "Demo markets: " in out
    assert "Demo stocks: 3 listed." in out
    assert Market.objects.count() >= 30


@override_settings(DEBUG=False)
def test_seed_demo_refuses_to_publish_a_password_outside_debug():
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not User.objects.filter(email=DEMO_STAFF_EMAIL).exists()
