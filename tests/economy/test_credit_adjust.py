"""Staff credit adjustments (SPEC §8): a form in the admin that posts through the ledger, and the
read-only admin lists of rewards and purchases."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from economy.errors import BalanceLimit, InsufficientBalance
from economy.models import DailyReward, LedgerEntry, LedgerKind, Purchase
from economy.services import credit_adjust, daily_reward_claim, purchase_create
from tests.factories import CreditPackageFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from thisthat.errors import ValidationFailed

pytestmark = pytest.mark.django_db

ADJUST = "/admin/economy/ledgerentry/adjust/"
LEDGER = "/admin/economy/ledgerentry/"


@pytest.fixture
def staff():
    return UserFactory(username="staff_sam", is_staff=True, is_superuser=True)


@pytest.fixture
def browser(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def alice():
    return UserFactory(username="alice_w", email="alice@example.com", balance=Decimal("500"))


def balance(user) -> Decimal:
    return User.objects.values_list("credit_balance", flat=True).get(pk=user.pk)


def post(browser, user, amount, reason="Goodwill after the outage", **extra):
    return browser.post(ADJUST, {"user": str(user), "amount": amount, "reason": reason, **extra})


def form_errors(response) -> dict:
    assert response.status_code == 200
    return response.context["form"].errors


# --- the form --------------------------------------------------------------------------------------
def test_the_form_renders_with_the_user_prefilled_from_the_link(browser, alice):
    response = browser.get(ADJUST, {"user": str(alice.pk)})
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("user", "amount", "reason"):
        assert f'name="{field}"' in html
    assert str(alice.pk) in html


def test_a_credit_is_posted_to_the_ledger_with_reason_and_staff_member(browser, staff, alice):
    response = post(browser, alice.pk, "250.25")

    assert response.status_code == 302
    assert f"user__id__exact={alice.pk}" in response["Location"]
    entry = LedgerEntry.objects.get(user=alice, kind=LedgerKind.ADMIN_ADJUSTMENT, created_by__isnull=False)
    assert entry.amount == Decimal("250.25")
    assert entry.description == "Goodwill after the outage"
    assert entry.created_by_id == staff.pk
    assert balance(alice) == Decimal("750.25") == entry.balance_after
    page = browser.get(response["Location"])
    assert "Adjusted alice_w" in page.content.decode()
    assert_ledger_reconciles()


def test_a_debit_is_allowed_down_to_zero(browser, alice):
    assert post(browser, alice.pk, "-500").status_code == 302
    assert balance(alice) == Decimal("0")


def test_the_user_can_be_named_by_username_or_email(browser, alice):
    assert post(browser, "ALICE_W", "1").status_code == 302
    assert post(browser, "Alice@Example.com", "1").status_code == 302
    assert balance(alice) == Decimal("502")


def test_a_debit_that_would_make_the_balance_negative_is_refused_with_a_clear_message(browser, alice):
    response = post(browser, alice.pk, "-500.01")

    errors = form_errors(response)
    assert "negative" in errors["amount"][0]
    assert "500" in errors["amount"][0]
    assert balance(alice) == Decimal("500")
    assert not LedgerEntry.objects.filter(user=alice, created_by__isnull=False).exists()


def test_a_credit_over_the_balance_cap_is_refused(browser, alice, settings):
    errors = form_errors(post(browser, alice.pk, str(settings.MAX_CREDIT_BALANCE)))
    assert "maximum" in errors["amount"][0]
    assert balance(alice) == Decimal("500")


@pytest.mark.parametrize("amount", ["0", "0.00", "1.234", "abc", ""])
def test_a_zero_malformed_or_over_precise_amount_is_refused(browser, alice, amount):
    assert "amount" in form_errors(post(browser, alice.pk, amount))
    assert balance(alice) == Decimal("500")


@pytest.mark.parametrize("reason", ["", "   "])
def test_the_reason_is_required(browser, alice, reason):
    assert "reason" in form_errors(post(browser, alice.pk, "10", reason=reason))
    assert balance(alice) == Decimal("500")


def test_an_unknown_user_is_refused(browser):
    assert "user" in form_errors(post(browser, "nobody_here", "10"))


def test_non_staff_are_sent_to_the_login_page(alice):
    client = Client()
    client.force_login(alice)
    response = post(client, alice.pk, "1000")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert balance(alice) == Decimal("500")


def test_staff_without_the_adjust_permission_are_refused(alice):
    clerk = UserFactory(is_staff=True)
    client = Client()
    client.force_login(clerk)
    assert client.get(ADJUST).status_code == 403
    assert post(client, alice.pk, "10").status_code == 403
    assert balance(alice) == Decimal("500")

    clerk.user_permissions.add(Permission.objects.get(codename="adjust_credits"))
    client.force_login(User.objects.get(pk=clerk.pk))
    assert post(client, alice.pk, "10").status_code == 302
    assert LedgerEntry.objects.get(user=alice, created_by=clerk).amount == Decimal("10")


def test_the_ledger_list_and_the_user_page_link_to_the_form(browser, alice):
    assert ADJUST in browser.get(LEDGER).content.decode()
    assert f"{ADJUST}?user={alice.pk}" in browser.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()


# --- the service -----------------------------------------------------------------------------------
def test_credit_adjust_refuses_negative_balances_zero_and_blank_reasons(alice, staff, settings):
    with pytest.raises(InsufficientBalance):
        credit_adjust(user_id=alice.pk, amount=Decimal("-501"), reason="x", staff_id=staff.pk)
    with pytest.raises(BalanceLimit):
        credit_adjust(user_id=alice.pk, amount=settings.MAX_CREDIT_BALANCE, reason="x", staff_id=staff.pk)
    with pytest.raises(ValidationFailed):
        credit_adjust(user_id=alice.pk, amount=Decimal("0"), reason="x", staff_id=staff.pk)
    with pytest.raises(ValidationFailed):
        credit_adjust(user_id=alice.pk, amount=Decimal("1.001"), reason="x", staff_id=staff.pk)
    with pytest.raises(ValidationFailed):
        credit_adjust(user_id=alice.pk, amount=Decimal("1"), reason=" ", staff_id=staff.pk)
    assert balance(alice) == Decimal("500")


# --- read-only lists -------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["economy/dailyreward", "economy/purchase", "idempotency/idempotencykey"])
def test_reward_purchase_and_key_lists_are_read_only(browser, alice, model):
    daily_reward_claim(user_id=alice.pk)
    purchase_create(user_id=alice.pk, package_id=CreditPackageFactory().pk)
    url = f"/admin/{model}/"

    response = browser.get(url)

    assert response.status_code == 200
    assert browser.get(f"{url}add/").status_code == 403
    assert "delete_selected" not in response.content.decode()


def test_the_reward_and_purchase_lists_filter_by_user_and_date(browser, alice):
    bob = UserFactory(username="bob_b")
    for user in (alice, bob):
        daily_reward_claim(user_id=user.pk)
        purchase_create(user_id=user.pk, package_id=CreditPackageFactory().pk)
    for model, rows in (("dailyreward", DailyReward), ("purchase", Purchase)):
        by_id = browser.get(f"/admin/economy/{model}/", {"user__id__exact": str(alice.pk)})
        assert {row.user_id for row in by_id.context["cl"].result_list} == {alice.pk}
        by_name = browser.get(f"/admin/economy/{model}/", {"q": "bob_b"})
        assert {row.user_id for row in by_name.context["cl"].result_list} == {bob.pk}
        assert rows.objects.count() == 2


def test_a_purchase_is_view_only_in_the_admin(browser, alice):
    outcome = purchase_create(user_id=alice.pk, package_id=CreditPackageFactory().pk)
    response = browser.get(f"/admin/economy/purchase/{outcome.purchase.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()


def test_credit_packages_are_editable(browser):
    package = CreditPackageFactory(name="Editable", credits=Decimal("100"), price_usd=Decimal("0.99"))
    response = browser.post(
        f"/admin/economy/creditpackage/{package.pk}/change/",
        {"name": "Edited", "credits": "150", "price_usd": "1.49", "sort_order": "5", "_save": "Save"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    package.refresh_from_db()
    assert (package.name, package.credits, package.price_usd, package.is_active) == (
        "Edited",
        Decimal("150"),
        Decimal("1.49"),
        False,
    )
