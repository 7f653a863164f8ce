"""The accounts services and model rules below the API: hashing, superusers, referrals, uniqueness."""

from decimal import Decimal

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher, identify_hasher
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from accounts import services
from accounts.errors import EmailTaken, InvalidReferralCode, UsernameTaken
from accounts.models import User
from accounts.services import user_create
from economy.errors import DuplicateLedgerPosting
from economy.models import LedgerEntry, LedgerKind
from economy.services import ledger_post
from tests.factories import UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from thisthat.settings import base as base_settings

pytestmark = pytest.mark.django_db


def bonus_rows(user, kind: LedgerKind) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(user=user, kind=kind))


# --- password hashing --------------------------------------------------------------------------
def test_argon2_is_the_first_production_password_hasher():
    first = import_string(base_settings.PASSWORD_HASHERS[0])

    assert issubclass(first, Argon2PasswordHasher)
    assert first.algorithm == "argon2"


def test_production_hashers_store_argon2_hashes_that_log_in(settings):
    settings.PASSWORD_HASHERS = base_settings.PASSWORD_HASHERS
    user = UserFactory(password="a-Production-passw0rd")

    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert identify_hasher(user.password).algorithm == get_hasher("default").algorithm == "argon2"
    response = APIClient().post(
        "/api/v1/auth/login", {"email": user.email, "password": "a-Production-passw0rd"}, format="json"
    )
    assert response.status_code == 200, response.json()


# --- superusers --------------------------------------------------------------------------------
def test_create_superuser_posts_the_signup_bonus():
    admin = User.objects.create_superuser(email="Root@Example.com", password="an-Adm1n-password", username="root")

    admin.refresh_from_db()
    assert admin.is_staff and admin.is_superuser
    assert admin.email == "root@example.com"
    assert admin.check_password("an-Adm1n-password")
    assert admin.credit_balance == Decimal("1000.00")
    assert [(e.kind, e.amount) for e in LedgerEntry.objects.filter(user=admin)] == [
        (LedgerKind.SIGNUP_BONUS, Decimal("1000.00"))
    ]
    assert_ledger_reconciles()


def test_createsuperuser_command_posts_the_signup_bonus(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an-Adm1n-password")

    call_command("createsuperuser", "--noinput", email="ops@example.com", username="ops", verbosity=0)

    admin = User.objects.get(email="ops@example.com")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("an-Adm1n-password")
    assert admin.credit_balance == Decimal("1000.00")
    assert len(bonus_rows(admin, LedgerKind.SIGNUP_BONUS)) == 1
    assert_ledger_reconciles()


def test_create_user_via_manager_posts_the_signup_bonus():
    user = User.objects.create_user(email="plain@example.com", password="a-Plain-passw0rd", username="plain")

    assert not user.is_staff
    assert user.credit_balance == Decimal("1000.00")
    assert len(bonus_rows(user, LedgerKind.SIGNUP_BONUS)) == 1


def test_a_user_can_never_get_a_second_signup_bonus(user):
    with pytest.raises(DuplicateLedgerPosting), transaction.atomic():
        ledger_post(user_id=user.pk, amount=Decimal("1000"), kind=LedgerKind.SIGNUP_BONUS)

    user.refresh_from_db()
    assert len(bonus_rows(user, LedgerKind.SIGNUP_BONUS)) == 1
    assert user.credit_balance == Decimal("1000.00")


# --- referrals ---------------------------------------------------------------------------------
def test_every_referred_user_gets_their_bonus_at_sign_up_and_the_referrers_wait():
    referrer = UserFactory()

    friends = [UserFactory(referral_code=referrer.referral_code) for _ in range(4)]

    referrer.refresh_from_db()
    assert referrer.referrals.count() == 4
    assert {f.referred_by_id for f in friends} == {referrer.pk}
    assert bonus_rows(referrer, LedgerKind.REFERRAL_BONUS) == []
    assert referrer.credit_balance == Decimal("1000.00")
    for friend in friends:
        assert friend.credit_balance == Decimal("1200.00")
        assert friend.referral_pending
        assert [r.amount for r in bonus_rows(friend, LedgerKind.REFERRAL_BONUS)] == [Decimal("200.00")]
    assert_ledger_reconciles()


@pytest.mark.parametrize("transform", [str.lower, str.upper, lambda code: f"  {code.lower()}  "])
def test_referral_code_lookup_is_case_insensitive(transform):
    referrer = UserFactory()

    friend = UserFactory(referral_code=transform(referrer.referral_code))

    assert friend.referred_by_id == referrer.pk
    assert friend.credit_balance == Decimal("1200.00")


def test_referral_code_lookup_is_case_insensitive_through_the_api():
    referrer = UserFactory()
    body = {
        "username": "friend",
        "email": "friend@example.com",
        "password": "s3cure-Passw0rd!",
        "referralCode": referrer.referral_code.lower(),
    }

    response = APIClient().post("/api/v1/auth/register", body, format="json")

    assert response.status_code == 201, response.json()
    assert User.objects.get(username="friend").referred_by_id == referrer.pk


def test_unknown_referral_code_raises_and_creates_nothing():
    with pytest.raises(InvalidReferralCode):
        user_create(username="friend", email="friend@example.com", password=None, referral_code="NOPE2345")

    assert not User.objects.exists()


def test_new_users_get_distinct_referral_codes():
    codes = {UserFactory().referral_code for _ in range(20)}

    assert len(codes) == 20


# --- uniqueness --------------------------------------------------------------------------------
def test_user_create_refuses_duplicate_username_in_any_case(user):
    with pytest.raises(UsernameTaken):
        user_create(username=user.username.upper(), email="other@example.com", password=None)


def test_user_create_refuses_duplicate_email_in_any_case(user):
    with pytest.raises(EmailTaken):
        user_create(username="someone_else", email=user.email.upper(), password=None)


@pytest.mark.parametrize(
    "field, value",
    [("username", lambda u: u.username.swapcase()), ("email", lambda u: u.email.upper())],
)
def test_database_enforces_case_insensitive_uniqueness(user, field, value):
    clone = {"username": "clone_name", "email": "clone@example.com", field: value(user)}

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(**clone)])


def _lose_the_race_to(monkeypatch, **rival):
    """Insert a conflicting row after the service's pre-checks pass, as a concurrent request would."""
    real = services._unique_referral_code

    def racing() -> str:
        User.objects.bulk_create([User(**rival)])
        return real()

    monkeypatch.setattr(services, "_unique_referral_code", racing)


def test_lost_race_on_username_is_reported_as_username_taken(monkeypatch):
    _lose_the_race_to(monkeypatch, username="Racer", email="first@example.com")

    with pytest.raises(UsernameTaken):
        user_create(username="racer", email="second@example.com", password=None)


@pytest.mark.parametrize("email", ["second@example.com", "username@example.com", "my.username.is@example.com"])
def test_lost_race_on_email_is_reported_as_email_taken(monkeypatch, email):
    _lose_the_race_to(monkeypatch, username="first", email=email)

    with pytest.raises(EmailTaken):
        user_create(username="second", email=email, password=None)
