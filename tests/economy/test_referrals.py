"""GET /referrals/me (SPEC §5): who joined with my code and what it earned me."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import REFERRAL_ALPHABET, User
from economy.models import LedgerEntry, LedgerKind
from tests.factories import UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles

pytestmark = pytest.mark.django_db

URL = "/api/v1/referrals/me"


def test_no_referrals_yet(auth_client, user):
    assert auth_client.get(URL).json() == {
        "referralCode": user.referral_code,
        "referralCount": 0,
        "creditsEarned": 0,
        "referrals": [],
    }


def test_referrals_are_listed_newest_first_with_the_bonus_each_paid(auth_client, user):
    first = UserFactory(username="first_friend", referral_code=user.referral_code)
    second = UserFactory(username="second_friend", referral_code=user.referral_code.lower())

    body = auth_client.get(URL).json()

    assert body["referralCount"] == 2
    assert body["creditsEarned"] == 400
    assert [r["user"] for r in body["referrals"]] == [
        {"id": str(second.pk), "username": "second_friend"},
        {"id": str(first.pk), "username": "first_friend"},
    ]
    assert [r["bonus"] for r in body["referrals"]] == [200, 200]
    assert set(body["referrals"][0]) == {"user", "joinedAt", "bonus"}
    assert_ledger_reconciles()


def test_past_the_bonus_cap_referrals_still_count_but_pay_nothing(auth_client, user, settings):
    settings.REFERRAL_MAX_BONUSES = 2
    for n in range(3):
        UserFactory(username=f"friend_{n}", referral_code=user.referral_code)

    body = auth_client.get(URL).json()

    assert body["referralCount"] == 3
    assert body["creditsEarned"] == 400
    assert [r["bonus"] for r in body["referrals"]] == [0, 200, 200]
    user.refresh_from_db()
    assert user.credit_balance == Decimal("1400")


def test_credits_earned_leaves_out_the_bonus_i_got_for_joining_with_a_code(client_for):
    inviter = UserFactory()
    me = UserFactory(referral_code=inviter.referral_code)
    UserFactory(referral_code=me.referral_code)

    body = client_for(me).get(URL).json()

    assert body["referralCount"] == 1
    assert body["creditsEarned"] == 200
    assert LedgerEntry.objects.filter(user=me, kind=LedgerKind.REFERRAL_BONUS).count() == 2


def test_the_referral_list_is_paginated_and_validated(auth_client, user):
    for n in range(3):
        UserFactory(username=f"pal_{n}", referral_code=user.referral_code)
    body = auth_client.get(URL, {"limit": 1, "offset": 1}).json()
    assert body["referralCount"] == 3
    assert [r["user"]["username"] for r in body["referrals"]] == ["pal_1"]
    assert_error(auth_client.get(URL, {"limit": "-1"}), 400, "VALIDATION_ERROR")


def test_the_query_count_does_not_grow_with_the_referrals(client_for):
    def queries_for(friends: int) -> int:
        referrer = UserFactory()
        for _ in range(friends):
            UserFactory(referral_code=referrer.referral_code)
        client = client_for(referrer)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(6)


def test_referral_codes_are_short_unambiguous_and_unique(user):
    codes = [UserFactory().referral_code for _ in range(30)]
    assert len(set(codes)) == 30
    assert all(len(code) == 8 and set(code) <= set(REFERRAL_ALPHABET) for code in codes)
    assert not set("0O1IL") & set(REFERRAL_ALPHABET)


def test_the_referral_bonuses_are_paid_in_the_registrations_transaction(user, monkeypatch):
    """If the second bonus posting fails, neither the account nor the first bonus is left behind."""
    from accounts import services as accounts_services

    real_post = accounts_services.ledger_post
    posted = []

    def failing_second_bonus(**kwargs):
        if kwargs["kind"] == LedgerKind.REFERRAL_BONUS and posted:
            raise RuntimeError("database hiccup")
        entry = real_post(**kwargs)
        if kwargs["kind"] == LedgerKind.REFERRAL_BONUS:
            posted.append(entry)
        return entry

    monkeypatch.setattr(accounts_services, "ledger_post", failing_second_bonus)
    with pytest.raises(RuntimeError):
        accounts_services.user_create(
            username="late", email="late@example.com", password=None, referral_code=user.referral_code
        )

    assert len(posted) == 1
    assert not User.objects.filter(username="late").exists()
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFERRAL_BONUS).exists()
    user.refresh_from_db()
    assert user.credit_balance == Decimal("1000")


def test_referrals_need_authentication(api_client):
    assert_error(api_client.get(URL), 401, "NOT_AUTHENTICATED")
