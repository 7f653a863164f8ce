"""GET /transactions/me (SPEC §5): the user's ledger, newest first, filtered and paginated."""

from decimal import Decimal
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from economy.models import LedgerKind
from economy.services import credit_adjust, ledger_post
from tests.factories import UserFactory
from tests.helpers.assertions import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/transactions/me"


def test_the_signup_bonus_is_the_first_transaction_in_the_spec_shape(auth_client, user):
    body = auth_client.get(URL).json()

    assert (body["total"], body["limit"], body["offset"]) == (1, 50, 0)
    [row] = body["transactions"]
    assert set(row) == {
        "id",
        "amount",
        "transactionType",
        "referenceId",
        "balanceAfter",
        "debtAfter",
        "description",
        "createdAt",
    }
    assert row["amount"] == 1000
    assert row["transactionType"] == "signup_bonus"
    assert row["referenceId"] is None
    assert row["balanceAfter"] == 1000
    assert row["description"] == "Welcome bonus"
    assert row["createdAt"].endswith(("Z", "+00:00"))


def test_rows_are_newest_first_signed_and_only_mine(auth_client, user):
    bet = uuid4()
    ledger_post(user_id=user.pk, amount=Decimal("-100.50"), kind=LedgerKind.BET_PLACED, reference_id=bet)
    ledger_post(user_id=user.pk, amount=Decimal("153.85"), kind=LedgerKind.BET_PAYOUT, reference_id=bet)
    ledger_post(user_id=UserFactory().pk, amount=Decimal("5"), kind=LedgerKind.ADMIN_ADJUSTMENT)

    rows = auth_client.get(URL).json()["transactions"]

    assert [(r["transactionType"], r["amount"], r["balanceAfter"]) for r in rows] == [
        ("bet_payout", 153.85, 1053.35),
        ("bet_placed", -100.5, 899.5),
        ("signup_bonus", 1000, 1000),
    ]
    assert rows[0]["referenceId"] == str(bet)


def test_every_row_has_a_human_description(auth_client, user):
    for kind in [LedgerKind.BET_PLACED, LedgerKind.BET_REFUND, LedgerKind.BET_SALE, LedgerKind.BET_PAYOUT]:
        ledger_post(user_id=user.pk, amount=Decimal("-1") if kind == "bet_placed" else Decimal("1"), kind=kind,
                    reference_id=uuid4())  # fmt: skip
    ledger_post(user_id=user.pk, amount=Decimal("1"), kind=LedgerKind.PURCHASE, reference_id=uuid4(), description="")

    descriptions = {r["transactionType"]: r["description"] for r in auth_client.get(URL).json()["transactions"]}

    assert all(descriptions.values())
    assert descriptions["bet_placed"] == "Bet placed"
    assert descriptions["bet_sale"] == "Bet cashed out"


def test_a_stored_description_wins_over_the_default(auth_client, user):
    staff = UserFactory(is_staff=True)
    credit_adjust(user_id=user.pk, amount=Decimal("25"), reason="Goodwill for the outage", staff_id=staff.pk)
    [row] = auth_client.get(URL, {"type": "admin_adjustment"}).json()["transactions"]
    assert row["description"] == "Goodwill for the outage"


def test_the_type_filter_keeps_one_kind_and_counts_only_it(auth_client, user):
    for _ in range(3):
        ledger_post(user_id=user.pk, amount=Decimal("-10"), kind=LedgerKind.BET_PLACED, reference_id=uuid4())

    body = auth_client.get(URL, {"type": "bet_placed"}).json()

    assert body["total"] == 3
    assert {r["transactionType"] for r in body["transactions"]} == {"bet_placed"}
    assert auth_client.get(URL, {"type": "purchase"}).json() == {
        "total": 0,
        "limit": 50,
        "offset": 0,
        "transactions": [],
    }


def test_an_unknown_type_is_a_validation_error(auth_client):
    body = assert_error(auth_client.get(URL, {"type": "free_money"}), 400, "VALIDATION_ERROR")
    assert "type" in body["details"]


def test_pages_walk_the_history_without_overlap(auth_client, user):
    for n in range(1, 8):
        ledger_post(user_id=user.pk, amount=Decimal(n), kind=LedgerKind.ADMIN_ADJUSTMENT)
    seen = []
    for offset in (0, 3, 6):
        body = auth_client.get(URL, {"limit": 3, "offset": offset}).json()
        assert (body["total"], body["limit"], body["offset"]) == (8, 3, offset)
        seen += [r["id"] for r in body["transactions"]]
    assert len(seen) == len(set(seen)) == 8
    assert auth_client.get(URL, {"offset": 100}).json()["transactions"] == []


@pytest.mark.parametrize(
    "query",
    [{"limit": "-1"}, {"limit": "0"}, {"limit": "201"}, {"limit": "ten"}, {"offset": "-1"}, {"offset": "1.5"}],
)
def test_limit_and_offset_are_validated(auth_client, query):
    body = assert_error(auth_client.get(URL, query), 400, "VALIDATION_ERROR")
    assert set(body["details"]) == set(query)


def test_limit_200_is_the_maximum_allowed(auth_client):
    assert auth_client.get(URL, {"limit": 200}).json()["limit"] == 200


def test_the_query_count_does_not_grow_with_the_page(client_for):
    def queries_for(rows: int) -> int:
        user = UserFactory()
        for _ in range(rows):
            ledger_post(user_id=user.pk, amount=Decimal("1"), kind=LedgerKind.ADMIN_ADJUSTMENT)
        client = client_for(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    assert queries_for(2) == queries_for(40)


def test_transactions_need_authentication(api_client):
    assert_error(api_client.get(URL), 401, "NOT_AUTHENTICATED")
