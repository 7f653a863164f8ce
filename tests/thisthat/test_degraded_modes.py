"""Redis down (SPEC §3, issue 10 "Degraded modes"): with the cache pointing at a closed port, reads
come from the database, a bet goes through, the credential endpoints fail closed with 503 and a
Retry-After, and an admin resolution commits and still settles (its after-commit hooks are robust)."""

import logging
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tokens import token_pair_issue
from betting.models import Bet, BetStatus
from leaderboard.services import ranks_recompute
from markets.models import MarketStatus, MarketType, Resolution
from tests.factories import DEFAULT_PASSWORD, MarketFactory, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from tests.helpers.betting import balance_of, place


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).access_token}")
    return client


def assert_retry_later(response) -> None:
    body = assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["Retry-After"]) == body["details"]["retryAfter"] > 0


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_reads_bets_logins_and_admin_resolution_degrade_but_never_500(take_cache_down, caplog):
    market = MarketFactory(market_type=MarketType.CREDITS, category="Science", title="Will the probe hold?")
    alice, bob = UserFactory(username="alice_d"), UserFactory(username="bob_d")
    place(alice, market, "that", "100")
    ranks_recompute()  # a published run, while Redis still answers
    staff = UserFactory(username="staff_d", is_staff=True, is_superuser=True)
    take_cache_down()
    caplog.set_level(logging.WARNING)
    anonymous = APIClient()

    # Public reads: served from the database.
    listing = anonymous.get("/api/v1/markets")
    assert listing.status_code == 200, listing.content
    assert [m["id"] for m in listing.json()["markets"]] == [str(market.pk)]
    categories = anonymous.get("/api/v1/markets/categories")
    assert categories.status_code == 200
    assert categories.json()["categories"] == [{"name": "Science", "slug": "science", "openMarkets": 1}]
    category = anonymous.get("/api/v1/markets/category/science")
    assert category.status_code == 200 and category.json()["total"] == 1
    assert anonymous.get(f"/api/v1/markets/{market.pk}").json()["id"] == str(market.pk)
    assert [m["id"] for m in anonymous.get("/api/v1/markets/random").json()["markets"]] == [str(market.pk)]
    # alice's bet is pending: on the volume board only (bob has no bet: on neither).
    for board, ranked in (("pnl", 0), ("volume", 1)):
        page = anonymous.get(f"/api/v1/leaderboard/{board}", {"limit": 10, "offset": 0})
        assert page.status_code == 200, page.content
        assert page.json()["total"] == ranked
    volume = anonymous.get("/api/v1/leaderboard/volume").json()["leaderboard"]
    assert volume[0]["user"]["username"] == "alice_d"
    me = bearer(alice).get("/api/v1/leaderboard/me")
    assert me.status_code == 200 and me.json()["volume"]["rank"] == 1

    # A bet: the bets limit fails open.
    bet = bearer(bob).post("/api/v1/bets", {"marketId": str(market.pk), "side": "this", "amount": "100"}, format="json")
    assert bet.status_code == 201, bet.content
    assert balance_of(bob) == Decimal("900.00")

    # Credentials fail closed: a right password is refused while attempts cannot be counted.
    login = {"email": alice.email, "password": DEFAULT_PASSWORD}
    assert_retry_later(anonymous.post("/api/v1/auth/login", login, format="json"))
    signup = {"username": "carol_d", "email": "carol@example.com", "password": "s3cure-Passw0rd!"}
    assert_retry_later(anonymous.post("/api/v1/auth/register", signup, format="json"))
    assert_retry_later(anonymous.post("/api/v1/auth/password/reset", {"email": alice.email}, format="json"))

    # The admin resolves: the resolution commits, the response is the usual redirect, and the
    # settlement queued after commit still runs (Celery is eager in tests).
    admin = Client()
    admin.force_login(staff)
    response = admin.post(
        "/admin/markets/market/",
        {"action": "resolve_this", "_selected_action": [str(market.pk)], "index": 0, "confirm": "yes"},
    )
    assert response.status_code == 302
    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.RESOLVED, Resolution.THIS)
    assert market.settled_at is not None
    assert dict(Bet.objects.values_list("user__username", "status")) == {
        "alice_d": BetStatus.LOST,
        "bob_d": BetStatus.WON,
    }
    shares = Bet.objects.get(user=bob).potential_payout  # what bob's 100 bought from the market maker
    assert shares > Decimal("153.85")  # alice's bet on THAT made THIS cheaper than its starting 0.65
    assert balance_of(bob) == Decimal("900") + shares
    assert_ledger_reconciles()

    assert any(r.name == "thisthat.cache" and r.levelno == logging.WARNING for r in caplog.records)
    assert not [r for r in caplog.records if r.name == "thisthat.errors" or getattr(r, "status_code", 0) == 500]
    assert not [r for r in caplog.records if r.name == "django.db.backends.base"]  # no after-commit hook failed


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/auth/login", {"email": "someone@example.com", "password": "whatever-it-is"}),
        ("/api/v1/auth/register", {"username": "newbie", "email": "newbie@example.com", "password": "s3cure-Pw0rd!"}),
        ("/api/v1/auth/password/reset", {"email": "someone@example.com"}),
        ("/api/v1/auth/password/reset/confirm", {"uid": "x", "token": "y", "newPassword": "s3cure-Pw0rd!"}),
    ],
)
def test_credential_endpoints_fail_closed_when_attempts_cannot_be_counted(take_cache_down, url, body):
    take_cache_down()

    assert_retry_later(APIClient().post(url, body, format="json"))


@pytest.mark.django_db
def test_other_limits_fail_open_when_the_cache_is_down(take_cache_down, user, auth_client):
    take_cache_down()

    assert auth_client.get("/api/v1/users/me").status_code == 200
    assert auth_client.post("/api/v1/rewards/daily").status_code == 201
    assert APIClient().get("/api/v1/purchases/packages").status_code == 200
