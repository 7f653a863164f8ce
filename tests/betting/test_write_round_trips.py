"""The write path in as few statements as the rules allow (issue 12). Inside a test's transaction the
service's own transaction is a savepoint (in production: BEGIN ... COMMIT); nothing nests another."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from betting.services import bet_place, bet_sell
from economy.services import daily_reward_claim
from tests.factories import MarketFactory
from tests.helpers.betting import place
from thisthat.http import Client

pytestmark = pytest.mark.django_db

CLIENT = Client(address="192.0.2.10", device_id="")  # as from a request: the activity row is written


def _statements(work) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        work()
    statements = [query["sql"] for query in captured.captured_queries]
    savepoints = [sql for sql in statements if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(savepoints) == 2, statements  # the service's own transaction, and no other
    return [sql for sql in statements if sql not in savepoints]


def test_a_bet_is_five_statements(user):
    market = MarketFactory()

    statements = _statements(
        lambda: bet_place(user_id=user.pk, market_id=market.pk, side="this", amount=Decimal("100"), client=CLIENT)
    )

    assert len(statements) == 5, statements
    lock, bet, user_lock, posting, activity = statements
    assert "pg_advisory_xact_lock" in lock and "FOR SHARE" in lock
    assert bet.startswith('INSERT INTO "betting_bet"')
    assert "FOR NO KEY UPDATE" in user_lock
    assert "INSERT INTO economy_ledger_entry" in posting and "UPDATE accounts_user" in posting
    assert activity.startswith('INSERT INTO "activity_activity"')


def test_a_cash_out_is_six_statements(user):
    market = MarketFactory()
    bet = place(user, market, "this", "100")

    statements = _statements(lambda: bet_sell(user_id=user.pk, bet_id=bet.pk, client=CLIENT))

    assert len(statements) == 6, statements
    read, lock, sold, user_lock, posting, activity = statements
    assert read.startswith('SELECT "betting_bet"') and "FOR" not in read
    assert "pg_advisory_xact_lock" in lock
    assert sold.startswith('UPDATE "betting_bet"') and "pending" in sold
    assert "FOR NO KEY UPDATE" in user_lock
    assert "INSERT INTO economy_ledger_entry" in posting
    assert activity.startswith('INSERT INTO "activity_activity"')


def test_a_daily_claim_is_five_statements(user):
    statements = _statements(lambda: daily_reward_claim(user_id=user.pk, client=CLIENT))

    assert len(statements) == 5, statements
    user_lock, latest, reward, activity, posting = statements
    assert "FOR NO KEY UPDATE" in user_lock
    assert latest.startswith('SELECT "economy_daily_reward"')
    assert "ON CONFLICT DO NOTHING" in reward
    assert activity.startswith('INSERT INTO "activity_activity"')
    assert "daily_streak" in posting and "INSERT INTO economy_ledger_entry" in posting
