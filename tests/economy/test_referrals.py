"""Referrals (SPEC §5, §6 [anti-abuse]): the new user's bonus at sign-up, the referrer's on the new
user's first bet of at least REFERRAL_QUALIFYING_BET — once, and not when the two share a device or
an address, the new account is flagged or the referrer suspended — and GET /referrals/me."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from abuse.models import Flag
from abuse.rules import Finding, Rule, Severity
from abuse.services import account_suspend, flags_raise
from accounts.models import REFERRAL_ALPHABET, User
from economy.models import LedgerEntry, LedgerKind, Referral, ReferralStatus, ReferralWithheld
from economy.services import ledger_post
from economy.tasks import settle_due_referrals
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from tests.helpers.betting import BETS, balance_of, payload, place
from tests.helpers.clients import account, sign_up

pytestmark = pytest.mark.django_db

URL = "/api/v1/referrals/me"


@pytest.fixture
def market(db):
    return MarketFactory()


@pytest.fixture
def bet_settled(django_capture_on_commit_callbacks, market):
    """Place a bet through the service and run what it queues on commit (the referral settlement)."""

    def bet(user, amount="100"):
        with django_capture_on_commit_callbacks(execute=True):
            return place(user, market, amount=amount)

    return bet


def referrer_bonuses(referrer) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(user=referrer, kind=LedgerKind.REFERRAL_BONUS).order_by("id"))


def test_no_referrals_yet(auth_client, user):
    assert auth_client.get(URL).json() == {
        "referralCode": user.referral_code,
        "referralCount": 0,
        "creditsEarned": 0,
        "creditsPending": 0,
        "referrals": [],
    }


def test_the_new_user_is_paid_at_sign_up_and_the_referrers_bonus_is_pending(auth_client, user):
    friend = UserFactory(username="friend", referral_code=user.referral_code)

    body = auth_client.get(URL).json()

    assert friend.credit_balance == Decimal("1200")
    assert balance_of(user) == Decimal("1000")
    assert referrer_bonuses(user) == []
    assert body["referralCount"] == 1
    assert body["creditsEarned"] == 0
    assert body["creditsPending"] == 200
    assert body["referrals"] == [
        {
            "user": {"id": str(friend.pk), "username": "friend"},
            "joinedAt": body["referrals"][0]["joinedAt"],
            "bonus": 0,
            "bonusStatus": "pending",
        }
    ]
    assert User.objects.get(pk=friend.pk).referral_pending
    assert_ledger_reconciles()


def test_the_referrers_bonus_is_paid_on_the_first_qualifying_bet(auth_client, user, bet_settled):
    friend = UserFactory(username="friend", referral_code=user.referral_code)

    bet = bet_settled(friend, amount="100")

    (bonus,) = referrer_bonuses(user)
    assert (bonus.amount, bonus.reference_id, bonus.balance_after) == (Decimal("200"), friend.pk, Decimal("1200"))
    referral = Referral.objects.get(pk=friend.pk)
    assert (referral.status, referral.bonus, referral.qualifying_bet_id) == (ReferralStatus.PAID, 200, bet.pk)
    body = auth_client.get(URL).json()
    assert (body["creditsEarned"], body["creditsPending"]) == (200, 0)
    assert [(r["bonus"], r["bonusStatus"]) for r in body["referrals"]] == [(200, "paid")]
    assert not User.objects.get(pk=friend.pk).referral_pending
    assert_ledger_reconciles()


def test_the_first_bet_through_the_api_qualifies_too(user, client_for, market, django_capture_on_commit_callbacks):
    friend = UserFactory(referral_code=user.referral_code)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(friend).post(BETS, payload(market, amount="150"), format="json")

    assert response.status_code == 201, response.json()
    assert [row.amount for row in referrer_bonuses(user)] == [Decimal("200")]


def test_a_bet_below_the_minimum_does_not_qualify_but_a_later_one_does(user, bet_settled, settings):
    settings.REFERRAL_QUALIFYING_BET = Decimal("100")
    friend = UserFactory(referral_code=user.referral_code)

    bet_settled(friend, amount="99.99")
    assert referrer_bonuses(user) == []
    assert Referral.objects.get(pk=friend.pk).status == ReferralStatus.PENDING

    bet_settled(friend, amount="100")
    assert [row.amount for row in referrer_bonuses(user)] == [Decimal("200")]


def test_the_bonus_is_paid_once_however_many_bets_follow(user, bet_settled):
    friend = UserFactory(referral_code=user.referral_code)

    for _ in range(3):
        bet_settled(friend, amount="200")

    assert len(referrer_bonuses(user)) == 1
    assert balance_of(user) == Decimal("1200")
    assert_ledger_reconciles()


def test_no_bonus_when_the_two_share_a_device(market, django_capture_on_commit_callbacks):
    inviter = sign_up("inviter", address="198.51.100.1", device="tablet-1")
    code = inviter.get("/api/v1/users/me").json()["referralCode"]
    friend = sign_up("friend", address="198.51.100.2", device="tablet-1", code=code)

    with django_capture_on_commit_callbacks(execute=True):
        assert friend.post(BETS, payload(market, amount="100"), format="json").status_code == 201

    referral = Referral.objects.get(pk=account("friend").pk)
    assert (referral.status, referral.reason, referral.bonus) == (ReferralStatus.WITHHELD, "shared_device", 0)
    assert referrer_bonuses(account("inviter")) == []
    flag = Flag.objects.get(rule=Rule.SELF_REFERRAL)
    assert flag.severity == Severity.MEDIUM
    assert flag.evidence["devices"] == ["tablet-1"]
    assert set(flag.users.values_list("username", flat=True)) == {"inviter", "friend"}
    assert [row["bonusStatus"] for row in inviter.get(URL).json()["referrals"]] == ["withheld"]
    assert_ledger_reconciles()


def test_no_bonus_when_the_two_share_an_address_but_nobody_is_suspended(market, django_capture_on_commit_callbacks):
    inviter = sign_up("inviter", address="198.51.100.7", device="phone-a")
    code = inviter.get("/api/v1/users/me").json()["referralCode"]
    friend = sign_up("friend", address="198.51.100.7", device="phone-b", code=code)

    with django_capture_on_commit_callbacks(execute=True):
        assert friend.post(BETS, payload(market, amount="100"), format="json").status_code == 201

    referral = Referral.objects.get(pk=account("friend").pk)
    assert (referral.status, referral.reason) == (ReferralStatus.WITHHELD, "shared_address")
    assert Flag.objects.get(rule=Rule.SELF_REFERRAL).severity == Severity.LOW
    assert not User.objects.filter(suspended_at__isnull=False).exists()
    assert account("friend").credit_balance == Decimal("1100")  # its own 200 stays; the bet is placed


def test_different_devices_and_addresses_are_paid(market, django_capture_on_commit_callbacks):
    inviter = sign_up("inviter", address="198.51.100.1", device="phone-a")
    code = inviter.get("/api/v1/users/me").json()["referralCode"]
    friend = sign_up("friend", address="203.0.113.9", device="phone-b", code=code)

    with django_capture_on_commit_callbacks(execute=True):
        assert friend.post(BETS, payload(market, amount="100"), format="json").status_code == 201

    assert Referral.objects.get(pk=account("friend").pk).status == ReferralStatus.PAID
    assert not Flag.objects.exists()


def test_no_bonus_when_the_referred_account_is_flagged(user, bet_settled):
    friend = UserFactory(referral_code=user.referral_code)
    flags_raise([Finding(Rule.PURCHASE_ANOMALY, Severity.MEDIUM, f"user:{friend.pk}", frozenset({friend.pk}))])

    bet_settled(friend)

    referral = Referral.objects.get(pk=friend.pk)
    assert (referral.status, referral.reason) == (ReferralStatus.WITHHELD, ReferralWithheld.FLAGGED)
    assert referrer_bonuses(user) == []


@pytest.mark.parametrize("dismissed", [False, True])
def test_a_low_or_dismissed_flag_does_not_withhold_the_bonus(user, bet_settled, dismissed):
    friend = UserFactory(referral_code=user.referral_code)
    severity = Severity.MEDIUM if dismissed else Severity.LOW
    (flag,) = flags_raise(
        [Finding(Rule.SIGNUP_VELOCITY_ADDRESS, severity, "address:198.51.100.9", frozenset({friend.pk}))]
    )
    if dismissed:
        Flag.objects.filter(pk=flag.pk).update(status="dismissed")

    bet_settled(friend)

    assert Referral.objects.get(pk=friend.pk).status == ReferralStatus.PAID


def test_no_bonus_when_the_referrer_is_suspended(user, bet_settled):
    friend = UserFactory(referral_code=user.referral_code)
    account_suspend(user_id=user.pk, reason="test", staff_id=None)

    bet_settled(friend)

    referral = Referral.objects.get(pk=friend.pk)
    assert (referral.status, referral.reason) == (ReferralStatus.WITHHELD, ReferralWithheld.REFERRER_SUSPENDED)
    assert referrer_bonuses(user) == []


def test_past_the_bonus_cap_referrals_still_count_but_pay_nothing(auth_client, user, settings, bet_settled):
    settings.REFERRAL_MAX_BONUSES = 2
    friends = [UserFactory(username=f"friend_{n}", referral_code=user.referral_code) for n in range(3)]
    for friend in friends:
        bet_settled(friend)

    body = auth_client.get(URL).json()

    assert body["referralCount"] == 3
    assert body["creditsEarned"] == 400
    assert [(r["bonus"], r["bonusStatus"]) for r in body["referrals"]] == [
        (0, "withheld"),
        (200, "paid"),
        (200, "paid"),
    ]
    assert Referral.objects.get(pk=friends[2].pk).reason == ReferralWithheld.BONUS_CAP
    assert balance_of(user) == Decimal("1400")
    assert_ledger_reconciles()


def test_a_referrer_at_the_balance_cap_is_not_paid_and_the_bet_stands(settings, bet_settled):
    referrer = UserFactory(balance=settings.MAX_CREDIT_BALANCE - Decimal("100"))
    friend = UserFactory(referral_code=referrer.referral_code)

    bet_settled(friend)

    referral = Referral.objects.get(pk=friend.pk)
    assert (referral.status, referral.reason) == (ReferralStatus.WITHHELD, ReferralWithheld.BALANCE_CAP)
    assert balance_of(friend) == Decimal("1100")
    assert_ledger_reconciles()


def test_a_settlement_lost_after_commit_is_finished_by_the_sweep(user, market):
    friend = UserFactory(referral_code=user.referral_code)
    place(friend, market, amount="100")  # the test transaction never commits: nothing runs on commit

    assert Referral.objects.get(pk=friend.pk).qualified_at is not None
    assert referrer_bonuses(user) == []

    Referral.objects.filter(pk=friend.pk).update(
        qualified_at=Referral.objects.get(pk=friend.pk).qualified_at.replace(year=2020)
    )
    settle_due_referrals.apply()

    assert [row.amount for row in referrer_bonuses(user)] == [Decimal("200")]
    assert Referral.objects.get(pk=friend.pk).status == ReferralStatus.PAID


def test_credits_earned_leaves_out_the_bonus_i_got_for_joining_with_a_code(client_for, bet_settled):
    inviter = UserFactory()
    me = UserFactory(referral_code=inviter.referral_code)
    friend = UserFactory(referral_code=me.referral_code)
    bet_settled(friend)

    body = client_for(me).get(URL).json()

    assert body["referralCount"] == 1
    assert body["creditsEarned"] == 200
    assert LedgerEntry.objects.filter(user=me, kind=LedgerKind.REFERRAL_BONUS).count() == 2


def test_the_referral_list_is_paginated_and_validated(auth_client, user):
    for n in range(3):
        UserFactory(username=f"pal_{n}", referral_code=user.referral_code)
    body = auth_client.get(URL, {"limit": 1, "offset": 1}).json()
    assert body["referralCount"] == 3
    assert body["creditsPending"] == 600
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


def test_the_new_users_bonus_is_paid_in_the_registrations_transaction(user, monkeypatch):
    """If the referral bonus posting fails, neither the account nor its referral is left behind."""
    from economy import services as economy_services

    real_post = economy_services.ledger_post

    def failing_referral_bonus(**kwargs):
        if kwargs["kind"] == LedgerKind.REFERRAL_BONUS:
            raise RuntimeError("database hiccup")
        return real_post(**kwargs)

    monkeypatch.setattr(economy_services, "ledger_post", failing_referral_bonus)
    from accounts.services import user_create

    with pytest.raises(RuntimeError):
        user_create(username="late", email="late@example.com", password=None, referral_code=user.referral_code)

    assert not User.objects.filter(username="late").exists()
    assert not Referral.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFERRAL_BONUS).exists()


def test_referrals_need_authentication(api_client):
    assert_error(api_client.get(URL), 401, "NOT_AUTHENTICATED")


def test_the_migration_gives_earlier_sign_ups_a_referral_decided_as_they_were_paid():
    """economy 0009: sign-ups from before referral rows are paid when the referrer's bonus is on the
    ledger, else withheld (the old sign-up skipped it past the cap)."""
    migration = importlib.import_module("economy.migrations.0009_referrals_of_earlier_signups")
    referrer = UserFactory()
    paid, skipped = (UserFactory(referral_code=referrer.referral_code) for _ in range(2))
    Referral.objects.all().delete()
    ledger_post(user_id=referrer.pk, amount=Decimal("200"), kind=LedgerKind.REFERRAL_BONUS, reference_id=paid.pk)

    migration.forward(apps, None)

    decided = {r.pk: (r.referrer_id, r.status, r.bonus) for r in Referral.objects.all()}
    assert decided == {
        paid.pk: (referrer.pk, ReferralStatus.PAID, Decimal("200")),
        skipped.pk: (referrer.pk, ReferralStatus.WITHHELD, Decimal("0")),
    }
