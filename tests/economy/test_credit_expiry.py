"""Inactivity expiry (issue 16, optional; off by default): with CREDIT_EXPIRY_ENABLED, credits above
the starting amount expire after CREDIT_EXPIRY_DAYS without a login, bet, cash-out, claim or
purchase, through the ledger (`credit_expiry`); the profile shows what would expire and when."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from economy.models import LedgerEntry, LedgerKind
from economy.tasks import expire_inactive_credits
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import balance_of, place

pytestmark = pytest.mark.django_db

USERS_ME = "/api/v1/users/me"


@pytest.fixture
def expiry_on(settings):
    settings.CREDIT_EXPIRY_ENABLED = True
    settings.CREDIT_EXPIRY_DAYS = 90


def idle_since(user, days: int) -> None:
    """Move the account's sign-up, last login and every ledger row `days` into the past."""
    then = timezone.now() - timedelta(days=days)
    User.objects.filter(pk=user.pk).update(created_at=then, last_login=then)
    LedgerEntry.objects.filter(user=user).update(created_at=then)


def expired_rows(user) -> list[Decimal]:
    return list(LedgerEntry.objects.filter(user=user, kind=LedgerKind.CREDIT_EXPIRY).values_list("amount", flat=True))


def test_expiry_is_off_by_default(settings, client_for):
    assert settings.CREDIT_EXPIRY_ENABLED is False
    rich = UserFactory(balance=Decimal("5000"))
    idle_since(rich, 365)

    assert expire_inactive_credits.apply().get()["accounts"] == 0
    assert balance_of(rich) == Decimal("5000")
    assert client_for(rich).get(USERS_ME).json()["creditExpiry"] is None


def test_credits_above_the_starting_amount_expire_after_the_idle_days(expiry_on):
    idle = UserFactory(balance=Decimal("3000.50"))
    idle_since(idle, 91)

    summary = expire_inactive_credits.apply().get()

    assert (summary["accounts"], summary["credits"]) == (1, "2000.50")
    assert expired_rows(idle) == [Decimal("-2000.50")]
    assert balance_of(idle) == Decimal("1000")
    assert expire_inactive_credits.apply().get()["accounts"] == 0  # nothing left above the start
    assert_ledger_reconciles()


@pytest.mark.parametrize("days", [89, 10])
def test_an_account_active_within_the_idle_days_keeps_its_credits(expiry_on, days):
    user = UserFactory(balance=Decimal("3000"))
    idle_since(user, days)
    expire_inactive_credits.apply()
    assert balance_of(user) == Decimal("3000")


def test_a_recent_bet_or_login_counts_as_activity(expiry_on):
    bettor, returning = UserFactory(balance=Decimal("3000")), UserFactory(balance=Decimal("3000"))
    idle_since(bettor, 200)
    idle_since(returning, 200)
    place(bettor, MarketFactory(), amount="10")
    User.objects.filter(pk=returning.pk).update(last_login=timezone.now())

    expire_inactive_credits.apply()

    assert balance_of(bettor) == Decimal("2990")
    assert balance_of(returning) == Decimal("3000")


def test_credits_received_are_not_activity(expiry_on):
    user = UserFactory(balance=Decimal("1000"))
    idle_since(user, 120)
    LedgerEntry.objects.create(
        user=user, amount=Decimal("500"), kind=LedgerKind.ADMIN_ADJUSTMENT, balance_after=Decimal("1500")
    )
    User.objects.filter(pk=user.pk).update(credit_balance=Decimal("1500"))

    expire_inactive_credits.apply()

    assert balance_of(user) == Decimal("1000")


def test_an_account_at_or_below_the_starting_amount_has_nothing_to_expire(expiry_on, client_for):
    poor = UserFactory(balance=Decimal("400"))
    idle_since(poor, 365)

    expire_inactive_credits.apply()

    assert expired_rows(poor) == []
    assert client_for(poor).get(USERS_ME).json()["creditExpiry"] is None


def test_the_profile_shows_the_upcoming_expiry_in_advance(expiry_on, client_for):
    user = UserFactory(balance=Decimal("2500"))
    idle_since(user, 30)
    last_active = User.objects.get(pk=user.pk).last_login

    expiry = client_for(user).get(USERS_ME).json()["creditExpiry"]

    assert expiry["amount"] == 1500
    assert expiry["expiresAt"] == (last_active + timedelta(days=90)).isoformat().replace("+00:00", "Z")
