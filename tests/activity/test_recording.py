"""Activity signals (issue 16): every sign-up, login, reward claim, purchase, bet and cash-out
records the client address (honouring NUM_PROXIES) and the optional X-Device-Id, in the action's
own transaction and with one INSERT; kept ACTIVITY_RETENTION_DAYS, then purged."""

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from activity.models import Activity, ActivityKind
from activity.tasks import purge_activity
from betting.models import Bet
from economy.models import Purchase
from markets.services import OddsUpdate, market_odds_update_many
from tests.factories import DEFAULT_PASSWORD, CreditPackageFactory, MarketFactory, UserFactory
from tests.helpers.assertions import assert_error
from tests.helpers.betting import BETS, payload, place, sell_url
from tests.helpers.clients import LOGIN, account, client_from, sign_up

pytestmark = pytest.mark.django_db

ADDRESS, DEVICE = "198.51.100.23", "install-7f3a"


@pytest.fixture
def market(db):
    return MarketFactory()


@pytest.fixture
def alice():
    """A signed-in client of a fresh account, from ADDRESS with DEVICE."""
    return sign_up("alice", address=ADDRESS, device=DEVICE)


def only(kind: str) -> Activity:
    (row,) = Activity.objects.filter(kind=kind)
    return row


def assert_recorded(row: Activity, *, user, address=ADDRESS, device=DEVICE, reference=None) -> None:
    assert (row.user_id, row.address, row.device_id, row.reference_id) == (user.pk, address, device, reference)


def test_a_sign_up_is_recorded(alice):
    assert_recorded(only(ActivityKind.SIGNUP), user=account("alice"))


def test_a_login_is_recorded():
    user = UserFactory()
    response = client_from("203.0.113.4", "laptop-1").post(
        LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert_recorded(only(ActivityKind.LOGIN), user=user, address="203.0.113.4", device="laptop-1")


def test_a_failed_login_records_nothing():
    user = UserFactory()
    client_from(ADDRESS, DEVICE).post(LOGIN, {"email": user.email, "password": "wrong"}, format="json")
    assert not Activity.objects.exists()


def test_a_daily_reward_claim_is_recorded(alice):
    response = alice.post("/api/v1/rewards/daily")
    assert response.status_code == 201
    assert_recorded(
        only(ActivityKind.DAILY_REWARD), user=account("alice"), reference=UUID(response.json()["reward"]["id"])
    )


def test_a_purchase_is_recorded(alice):
    pack = CreditPackageFactory()
    response = alice.post("/api/v1/purchases", {"packageId": pack.pk}, format="json")
    assert response.status_code == 201
    assert_recorded(only(ActivityKind.PURCHASE), user=account("alice"), reference=Purchase.objects.get().pk)


def test_a_bet_is_recorded_with_what_it_was_placed_on(alice, market):
    response = alice.post(BETS, payload(market, side="that"), format="json")
    assert response.status_code == 201
    row = only(ActivityKind.BET)
    assert_recorded(row, user=account("alice"), reference=Bet.objects.get().pk)
    assert (row.market_id, row.side, row.odds, row.odds_after) == (market.pk, "that", Decimal("0.35"), None)


def test_a_cash_out_is_recorded(alice, market):
    bet = place(account("alice"), market)
    assert alice.post(sell_url(bet), {}, format="json").status_code == 200
    assert_recorded(only(ActivityKind.CASH_OUT), user=account("alice"), reference=bet.pk)


def test_without_a_device_header_the_device_is_empty():
    sign_up("bob", address=ADDRESS)
    assert only(ActivityKind.SIGNUP).device_id == ""


@pytest.mark.parametrize("header", ["has spaces", "x" * 65, "ünïcode", "semi;colon"])
def test_a_malformed_device_id_is_ignored(header):
    sign_up("bob", address=ADDRESS, device=header)
    assert only(ActivityKind.SIGNUP).device_id == ""


def test_x_forwarded_for_is_ignored_without_trusted_proxies():
    client = client_from("10.0.0.2", DEVICE)
    body = {"username": "bob", "email": "bob@example.com", "password": "s3cure-Passw0rd!"}
    client.post("/api/v1/auth/register", body, format="json", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert only(ActivityKind.SIGNUP).address == "10.0.0.2"


def test_behind_a_trusted_proxy_the_address_it_saw_is_recorded(settings):
    settings.NUM_PROXIES = 1
    client = client_from("10.0.0.2", DEVICE)
    body = {"username": "bob", "email": "bob@example.com", "password": "s3cure-Passw0rd!"}
    client.post("/api/v1/auth/register", body, format="json", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.99")
    assert only(ActivityKind.SIGNUP).address == "203.0.113.99"


def test_a_refused_action_records_nothing(alice, market):
    response = alice.post(BETS, payload(market, amount="5000"), format="json")  # more than the balance
    assert_error(response, 400, "INSUFFICIENT_BALANCE")
    assert not Activity.objects.filter(kind=ActivityKind.BET).exists()


def test_an_idempotent_replay_records_once(alice, market):
    for _ in range(2):
        response = alice.post(BETS, payload(market), format="json", HTTP_IDEMPOTENCY_KEY="bet-1")
        assert response.status_code == 201
    assert Activity.objects.filter(kind=ActivityKind.BET).count() == 1


def test_a_service_called_without_a_request_records_nothing(market):
    place(UserFactory(), market)
    assert not Activity.objects.exists()


def test_the_bet_path_costs_one_insert_and_no_other_query_for_the_anti_abuse_checks(alice, market):
    alice.post(BETS, payload(market), format="json")  # warm up: the first bet's connection setup

    with CaptureQueriesContext(connection) as captured:
        assert alice.post(BETS, payload(market), format="json").status_code == 201

    statements = [query["sql"] for query in captured]
    touching = [sql for sql in statements if "activity_activity" in sql]
    assert len(touching) == 1 and touching[0].startswith("INSERT")
    assert not [sql for sql in statements if "economy_referral" in sql or "abuse_" in sql]
    # The suspension guard and the referral check read their columns with the ledger's row lock.
    (lock,) = [sql for sql in statements if "FOR NO KEY UPDATE" in sql and "accounts_user" in sql]
    assert '"suspended_at"' in lock and '"referral_pending"' in lock


def test_an_odds_sync_gives_earlier_bets_the_odds_that_followed(alice, market, django_capture_on_commit_callbacks):
    other = MarketFactory()
    alice.post(BETS, payload(market, side="this"), format="json")
    alice.post(BETS, payload(market, side="that"), format="json")
    alice.post(BETS, payload(other), format="json")

    with django_capture_on_commit_callbacks(execute=True):
        market_odds_update_many(updates=[OddsUpdate(market.pk, Decimal("0.7200"), Decimal("0.2800"))])

    after = dict(Activity.objects.filter(kind=ActivityKind.BET, market_id=market.pk).values_list("side", "odds_after"))
    assert after == {"this": Decimal("0.7200"), "that": Decimal("0.2800")}
    assert Activity.objects.get(market_id=other.pk).odds_after is None

    # The next sync leaves them as they are: they are followed by the first sync only.
    with django_capture_on_commit_callbacks(execute=True):
        market_odds_update_many(updates=[OddsUpdate(market.pk, Decimal("0.5000"), Decimal("0.5000"))])
    assert Activity.objects.get(market_id=market.pk, side="this").odds_after == Decimal("0.7200")


def test_activity_older_than_the_retention_is_purged(settings):
    settings.ACTIVITY_RETENTION_DAYS = 30
    sign_up("old", address=ADDRESS)
    sign_up("recent", address=ADDRESS)
    Activity.objects.filter(user__username="old").update(created_at=timezone.now() - timedelta(days=31))

    assert purge_activity.apply().get() == 1

    assert list(Activity.objects.values_list("user__username", flat=True)) == ["recent"]


@pytest.mark.parametrize(
    "operation",
    ["auth_register", "auth_login", "rewards_daily_claim", "purchases_create", "bets_place", "bets_sell"],
)
def test_the_device_header_is_documented_in_the_openapi_schema(operation):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = {op["operationId"]: op for path in schema["paths"].values() for op in path.values()}
    headers = {p["name"] for p in operations[operation].get("parameters", []) if p["in"] == "header"}
    assert "X-Device-Id" in headers
