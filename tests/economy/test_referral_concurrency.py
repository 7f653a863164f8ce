"""Races on the referrer's bonus, with real threads and real transactions: the first bets of one
referred user, and of many referred users of one referrer near the bonus cap."""

from collections import Counter
from decimal import Decimal

import pytest

from economy.models import LedgerEntry, LedgerKind, Referral, ReferralStatus, ReferralWithheld
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import place
from tests.helpers.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def test_parallel_first_bets_pay_the_referrer_exactly_once():
    market = MarketFactory()
    referrer = UserFactory()
    friend = UserFactory(referral_code=referrer.referral_code)

    def first_bet(_: int) -> str:
        place(friend, market, amount="100")
        return "placed"

    assert run_together(first_bet, THREADS) == ["placed"] * THREADS

    bonuses = LedgerEntry.objects.filter(user=referrer, kind=LedgerKind.REFERRAL_BONUS)
    assert [(row.amount, row.reference_id) for row in bonuses] == [(Decimal("200.00"), friend.pk)]
    referral = Referral.objects.get(pk=friend.pk)
    assert referral.status == ReferralStatus.PAID
    referrer.refresh_from_db()
    assert referrer.credit_balance == Decimal("1200.00")
    assert_ledger_reconciles()


def test_parallel_first_bets_of_many_friends_never_pay_past_the_cap(settings):
    settings.REFERRAL_MAX_BONUSES = 3
    market = MarketFactory()
    referrer = UserFactory()
    friends = [UserFactory(referral_code=referrer.referral_code) for _ in range(THREADS)]

    def first_bet(i: int) -> str:
        place(friends[i], market, amount="150")
        return "placed"

    assert run_together(first_bet, THREADS) == ["placed"] * THREADS

    outcomes = Counter(Referral.objects.filter(referrer=referrer).values_list("status", "reason"))
    assert outcomes == {(ReferralStatus.PAID, ""): 3, (ReferralStatus.WITHHELD, ReferralWithheld.BONUS_CAP): 5}
    assert LedgerEntry.objects.filter(user=referrer, kind=LedgerKind.REFERRAL_BONUS).count() == 3
    referrer.refresh_from_db()
    assert referrer.credit_balance == Decimal("1600.00")
    assert_ledger_reconciles()
