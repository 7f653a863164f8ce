"""Credit packs (SPEC §5, §6): packages in the database, a provider interface, Idempotency-Key,
the balance cap and the per-user purchase limit."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from accounts.models import User
from economy import payments
from economy.errors import BalanceLimit, PaymentFailed
from economy.models import CreditPackage, LedgerEntry, LedgerKind, Purchase, PurchaseStatus
from economy.payments import Charge, ChargeResult, ManualProvider, PaymentProvider, payment_provider
from economy.services import purchase_complete, purchase_create
from idempotency.models import IdempotencyKey
from tests.factories import CreditPackageFactory, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from thisthat.errors import RateLimited, ValidationFailed

pytestmark = pytest.mark.django_db

PACKAGES = "/api/v1/purchases/packages"
PURCHASES = "/api/v1/purchases"
MINE = "/api/v1/purchases/me"


@pytest.fixture
def pack():
    return CreditPackageFactory(name="Test pack", credits=Decimal("1200"), price_usd=Decimal("9.99"))


def buy(client, package_id, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(PURCHASES, {"packageId": package_id, **extra}, format="json", **headers)


def balance(user) -> Decimal:
    return User.objects.values_list("credit_balance", flat=True).get(pk=user.pk)


# --- packages --------------------------------------------------------------------------------------
def test_the_four_spec_packages_are_seeded_and_listed_without_auth(api_client):
    response = api_client.get(PACKAGES)

    assert response.status_code == 200
    packages = response.json()["packages"]
    assert [(p["credits"], p["priceUsd"]) for p in packages] == [
        (500, 4.99),
        (1200, 9.99),
        (3000, 19.99),
        (8000, 49.99),
    ]
    assert all(set(p) == {"id", "name", "credits", "priceUsd"} for p in packages)


def test_the_seed_migration_is_repeatable():
    seed = importlib.import_module("economy.migrations.0003_seed_credit_packages").seed
    seed(apps, None)
    assert CreditPackage.objects.count() == 4


def test_inactive_packages_are_not_listed_and_the_order_is_staffs(api_client):
    CreditPackage.objects.update(is_active=False)
    CreditPackageFactory(name="Second", sort_order=2)
    CreditPackageFactory(name="First", sort_order=1)
    CreditPackageFactory(name="Hidden", is_active=False, sort_order=0)

    assert [p["name"] for p in api_client.get(PACKAGES).json()["packages"]] == ["First", "Second"]


# --- POST /purchases -------------------------------------------------------------------------------
def test_a_purchase_with_the_manual_provider_settles_at_once(auth_client, user, pack):
    response = buy(auth_client, pack.pk)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"purchase", "newBalance"}
    assert set(body["purchase"]) == {"id", "packageId", "credits", "priceUsd", "provider", "status", "createdAt"}
    assert body["purchase"]["packageId"] == pack.pk
    assert body["purchase"]["credits"] == 1200
    assert body["purchase"]["priceUsd"] == 9.99
    assert body["purchase"]["provider"] == "manual"
    assert body["purchase"]["status"] == "completed"
    assert body["newBalance"] == 2200
    purchase = Purchase.objects.get(pk=body["purchase"]["id"])
    assert purchase.completed_at is not None
    assert purchase.provider_reference == f"manual:{purchase.pk}"
    entry = LedgerEntry.objects.get(kind=LedgerKind.PURCHASE)
    assert (entry.user_id, entry.amount, entry.reference_id) == (user.pk, Decimal("1200"), purchase.pk)
    assert balance(user) == Decimal("2200")
    assert_ledger_reconciles()


def test_the_purchase_keeps_the_price_and_credits_it_was_bought_at(auth_client, pack):
    purchase_id = buy(auth_client, pack.pk).json()["purchase"]["id"]
    CreditPackage.objects.filter(pk=pack.pk).update(credits=Decimal("1"), price_usd=Decimal("1000"))

    purchase = Purchase.objects.get(pk=purchase_id)
    assert (purchase.credits, purchase.price_usd) == (Decimal("1200"), Decimal("9.99"))


@pytest.mark.parametrize("package_id", [999999, "inactive"])
def test_an_unknown_or_inactive_package_is_a_validation_error(auth_client, package_id):
    if package_id == "inactive":
        package_id = CreditPackageFactory(is_active=False).pk
    body = assert_error(buy(auth_client, package_id), 400, "VALIDATION_ERROR")
    assert "packageId" in body["details"]
    assert not Purchase.objects.exists()


@pytest.mark.parametrize("body", [{}, {"packageId": "abc"}, {"packageId": None}, {"packageId": 0}, {"packageId": 1.5}])
def test_a_missing_or_malformed_package_id_is_a_validation_error(auth_client, body):
    response = auth_client.post(PURCHASES, body, format="json")
    assert "packageId" in assert_error(response, 400, "VALIDATION_ERROR")["details"]


def test_purchasing_needs_authentication(api_client, pack):
    assert_error(buy(api_client, pack.pk), 401, "NOT_AUTHENTICATED")


def test_a_purchase_over_the_balance_cap_is_balance_limit_and_persists_nothing(client_for, pack, settings):
    user = UserFactory(balance=settings.MAX_CREDIT_BALANCE - Decimal("1199.99"))

    assert_error(buy(client_for(user), pack.pk, key="cap-1"), 409, "BALANCE_LIMIT")

    assert not Purchase.objects.exists()
    assert IdempotencyKey.objects.get().response_status == 409  # the refusal is what a retry gets
    assert balance(user) == settings.MAX_CREDIT_BALANCE - Decimal("1199.99")
    assert_ledger_reconciles()


def test_a_purchase_landing_exactly_on_the_cap_is_allowed(client_for, pack, settings):
    user = UserFactory(balance=settings.MAX_CREDIT_BALANCE - Decimal("1200"))
    assert buy(client_for(user), pack.pk).status_code == 201
    assert balance(user) == settings.MAX_CREDIT_BALANCE


# --- the per-user purchase limit -------------------------------------------------------------------
def test_the_sixth_purchase_within_an_hour_is_rate_limited_with_retry_after(client_for, user, pack, time_machine):
    time_machine.move_to("2026-03-10T09:00:00Z", tick=False)  # tokens are issued after each move
    for minute in range(5):
        time_machine.move_to(f"2026-03-10T09:{minute * 10:02d}:00Z", tick=False)
        assert buy(client_for(user), pack.pk).status_code == 201
    time_machine.move_to("2026-03-10T09:45:00Z", tick=False)

    response = buy(client_for(user), pack.pk)

    body = assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert response["Retry-After"] == str(15 * 60)  # the first purchase leaves the window at 10:00
    assert body["details"]["retryAfter"] == 15 * 60
    assert Purchase.objects.filter(user=user).count() == 5
    time_machine.move_to("2026-03-10T10:00:01Z", tick=False)
    assert buy(client_for(user), pack.pk).status_code == 201


def test_the_limit_is_per_user(client_for, pack):
    first, second = UserFactory(), UserFactory()
    for _ in range(5):
        assert buy(client_for(first), pack.pk).status_code == 201
    assert buy(client_for(second), pack.pk).status_code == 201


def test_the_limit_follows_the_purchases_rate_setting(auth_client, pack, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "purchases": "2/hour"}
    assert buy(auth_client, pack.pk).status_code == 201
    assert buy(auth_client, pack.pk).status_code == 201
    assert_error(buy(auth_client, pack.pk), 429, "RATE_LIMIT_EXCEEDED")
    settings.RATE_LIMIT_ENABLED = False
    assert buy(auth_client, pack.pk).status_code == 201


def test_a_rate_limited_attempt_leaves_its_key_for_a_later_retry(auth_client, pack, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "purchases": "1/hour"}
    assert buy(auth_client, pack.pk).status_code == 201
    assert_error(buy(auth_client, pack.pk, key="when-allowed"), 429, "RATE_LIMIT_EXCEEDED")
    assert not IdempotencyKey.objects.filter(key="when-allowed").exists()
    settings.RATE_LIMIT_ENABLED = False

    assert buy(auth_client, pack.pk, key="when-allowed").status_code == 201


def test_replays_do_not_count_against_the_limit(auth_client, pack):
    for _ in range(10):
        assert buy(auth_client, pack.pk, key="same-key").status_code == 201
    for n in range(4):
        assert buy(auth_client, pack.pk, key=f"other-{n}").status_code == 201
    assert Purchase.objects.count() == 5


# --- Idempotency-Key -------------------------------------------------------------------------------
def test_a_retry_with_the_same_key_and_body_replays_the_first_response(auth_client, user, pack):
    first = buy(auth_client, pack.pk, key="retry-me")
    second = buy(auth_client, pack.pk, key="retry-me")

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert Purchase.objects.count() == 1
    assert balance(user) == Decimal("2200")
    assert_ledger_reconciles()


def test_the_same_key_with_a_different_body_is_idempotency_conflict(auth_client, pack):
    other = CreditPackageFactory()
    buy(auth_client, pack.pk, key="k")

    body = assert_error(buy(auth_client, other.pk, key="k"), 409, "IDEMPOTENCY_CONFLICT")

    assert "idempotencyKey" in body["details"]
    assert Purchase.objects.count() == 1


def test_keys_are_per_user(client_for, pack):
    alice, bob = UserFactory(), UserFactory()
    assert buy(client_for(alice), pack.pk, key="shared").status_code == 201
    response = buy(client_for(bob), pack.pk, key="shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Purchase.objects.count() == 2
    assert balance(bob) == Decimal("2200")


def test_without_a_key_every_request_is_a_new_purchase(auth_client, pack):
    buy(auth_client, pack.pk)
    buy(auth_client, pack.pk)
    assert Purchase.objects.count() == 2


def test_a_refused_request_is_replayed_not_retried(auth_client, pack):
    pack.is_active = False
    pack.save()
    first = assert_error(buy(auth_client, pack.pk, key="later"), 400, "VALIDATION_ERROR")
    pack.is_active = True
    pack.save()

    again = buy(auth_client, pack.pk, key="later")

    assert assert_error(again, 400, "VALIDATION_ERROR") == first
    assert again.headers["Idempotent-Replayed"] == "true"
    assert not Purchase.objects.exists()
    assert buy(auth_client, pack.pk, key="a-new-attempt").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_empty_or_overlong_key_is_a_validation_error(auth_client, pack, key):
    body = assert_error(buy(auth_client, pack.pk, key=key), 400, "VALIDATION_ERROR")
    assert "idempotencyKey" in body["details"]
    assert not Purchase.objects.exists()


def test_a_255_character_key_is_accepted(auth_client, pack):
    assert buy(auth_client, pack.pk, key="k" * 255).status_code == 201
    assert IdempotencyKey.objects.get().key == "k" * 255


# --- GET /purchases/me -----------------------------------------------------------------------------
def test_my_purchases_are_listed_newest_first_with_pagination(client_for, pack):
    user, other = UserFactory(), UserFactory()
    client = client_for(user)
    ids = [buy(client, pack.pk).json()["purchase"]["id"] for _ in range(3)]
    buy(client_for(other), pack.pk)

    body = client.get(MINE).json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 20, 0)
    assert [p["id"] for p in body["purchases"]] == ids[::-1]
    page = client.get(MINE, {"limit": 2, "offset": 2}).json()
    assert [p["id"] for p in page["purchases"]] == [ids[0]]


@pytest.mark.parametrize("query", [{"limit": "-5"}, {"limit": "1000"}, {"offset": "abc"}])
def test_my_purchases_validate_the_page(auth_client, query):
    assert set(assert_error(auth_client.get(MINE, query), 400, "VALIDATION_ERROR")["details"]) == set(query)


# --- services and providers ------------------------------------------------------------------------
def test_the_provider_is_chosen_by_the_setting(settings):
    assert isinstance(payment_provider(), ManualProvider)
    settings.PAYMENT_PROVIDER = "nonexistent"
    with pytest.raises(ImproperlyConfigured):
        payment_provider()


class _DecliningProvider(PaymentProvider):
    name = "declining"

    def charge(self, *, purchase):
        return ChargeResult(status=Charge.DECLINED, message="Card declined.")


class _DeferredProvider(PaymentProvider):
    name = "deferred"

    def charge(self, *, purchase):
        return ChargeResult(status=Charge.PENDING, reference="later-123")


def test_a_declined_payment_credits_nothing_and_records_nothing(user, pack):
    with pytest.raises(PaymentFailed):
        purchase_create(user_id=user.pk, package_id=pack.pk, provider=_DecliningProvider())
    assert not Purchase.objects.exists()
    assert balance(user) == Decimal("1000")


def test_a_provider_that_confirms_later_is_settled_once_by_purchase_complete(user, pack, monkeypatch, settings):
    monkeypatch.setitem(payments.PROVIDERS, "deferred", _DeferredProvider)
    settings.PAYMENT_PROVIDER = "deferred"

    outcome = purchase_create(user_id=user.pk, package_id=pack.pk)

    assert outcome.purchase.status == PurchaseStatus.PENDING
    assert outcome.purchase.provider == "deferred"
    assert outcome.new_balance == balance(user) == Decimal("1000")
    purchase_complete(purchase_id=outcome.purchase.pk)
    purchase_complete(purchase_id=outcome.purchase.pk)  # a repeated webhook pays nothing more
    purchase = Purchase.objects.get()
    assert purchase.status == PurchaseStatus.COMPLETED
    assert purchase.provider_reference == "later-123"
    assert balance(user) == Decimal("2200")
    assert LedgerEntry.objects.filter(kind=LedgerKind.PURCHASE).count() == 1
    assert_ledger_reconciles()


def test_the_service_refuses_an_unknown_package(user):
    with pytest.raises(ValidationFailed):
        purchase_create(user_id=user.pk, package_id=424242)


def test_the_service_refuses_over_the_cap_before_charging(settings, pack):
    user = UserFactory(balance=settings.MAX_CREDIT_BALANCE)
    charged = []

    class Spy(ManualProvider):
        def charge(self, *, purchase):
            charged.append(purchase)
            return super().charge(purchase=purchase)

    with pytest.raises(BalanceLimit):
        purchase_create(user_id=user.pk, package_id=pack.pk, provider=Spy())
    assert charged == []


def test_the_service_enforces_the_purchase_limit(user, pack, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "purchases": "1/hour"}
    purchase_create(user_id=user.pk, package_id=pack.pk)
    with pytest.raises(RateLimited):
        purchase_create(user_id=user.pk, package_id=pack.pk)
