"""Staff views of users and the ledger (SPEC §8): searchable, balance read-only, ledger read-only."""

from decimal import Decimal
from uuid import uuid4

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from economy.models import CreditPackage, LedgerEntry, LedgerKind
from economy.services import ledger_post
from tests.factories import DEFAULT_PASSWORD, CreditPackageFactory, UserFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
LEDGER = "/admin/economy/ledgerentry/"


@pytest.fixture
def superuser():
    return UserFactory(username="root_admin", email="root@staff.test", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_browser(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def alice():
    return UserFactory(username="alice_w", email="alice@wonderland.test", balance=Decimal("1234.56"))


@pytest.fixture
def bob():
    return UserFactory(username="bob_b", email="robert@builders.test")


def _found(response) -> set[str]:
    assert response.status_code == 200
    return {user.username for user in response.context["cl"].result_list}


# --- users ---------------------------------------------------------------------------------------
def test_user_changelist_lists_users(admin_browser, alice, bob):
    assert {"alice_w", "bob_b", "root_admin"} <= _found(admin_browser.get(USERS))


def test_user_changelist_searches_by_username(admin_browser, alice, bob):
    assert _found(admin_browser.get(USERS, {"q": "alice_w"})) == {"alice_w"}
    assert _found(admin_browser.get(USERS, {"q": "BOB_B"})) == {"bob_b"}


def test_user_changelist_searches_by_email(admin_browser, alice, bob):
    assert _found(admin_browser.get(USERS, {"q": "robert@builders"})) == {"bob_b"}
    assert _found(admin_browser.get(USERS, {"q": "wonderland.test"})) == {"alice_w"}


def test_user_changelist_search_with_no_match_is_empty(admin_browser, alice, bob):
    assert _found(admin_browser.get(USERS, {"q": "nobody-by-that-name"})) == set()


def test_user_change_page_shows_the_balance_read_only(admin_browser, alice):
    response = admin_browser.get(f"{USERS}{alice.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="credit_balance"' not in html
    assert 'name="total_volume"' not in html
    assert 'name="overall_pnl"' not in html
    assert "1234.56" in html
    assert "credit_balance" not in response.context["adminform"].form.fields


def test_user_change_page_links_to_the_users_ledger(admin_browser, alice):
    html = admin_browser.get(f"{USERS}{alice.pk}/change/").content.decode()
    assert f"{LEDGER}?user__id__exact={alice.pk}" in html


def test_saving_the_user_change_form_ignores_a_posted_balance(admin_browser, alice):
    response = admin_browser.post(
        f"{USERS}{alice.pk}/change/",
        {
            "username": "alice_renamed",
            "email": alice.email,
            "credit_balance": "999999",
            "total_volume": "5",
            "is_active": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    alice.refresh_from_db()
    assert alice.username == "alice_renamed"
    assert alice.credit_balance == Decimal("1234.56")
    assert alice.total_volume == Decimal("0")


def test_user_add_page_is_refused(admin_browser):
    response = admin_browser.get(f"{USERS}add/")
    assert response.status_code == 403


def test_posting_to_the_user_add_page_creates_nobody(admin_browser):
    before = User.objects.count()
    response = admin_browser.post(
        f"{USERS}add/", {"username": "sneaky", "email": "sneaky@example.com", "password1": "x", "password2": "x"}
    )
    assert response.status_code == 403
    assert User.objects.count() == before


def test_user_admin_is_closed_to_non_staff(alice):
    client = Client()
    client.force_login(alice)
    response = client.get(USERS)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- ledger --------------------------------------------------------------------------------------
def test_ledger_changelist_loads_with_the_entries(admin_browser, alice):
    response = admin_browser.get(LEDGER)
    assert response.status_code == 200
    kinds = {entry.kind for entry in response.context["cl"].result_list}
    assert {LedgerKind.SIGNUP_BONUS, LedgerKind.ADMIN_ADJUSTMENT} <= kinds


def test_ledger_changelist_filters_by_user(admin_browser, alice, bob):
    response = admin_browser.get(LEDGER, {"user__id__exact": str(alice.pk)})
    assert response.status_code == 200
    entries = list(response.context["cl"].result_list)
    assert entries
    assert {entry.user_id for entry in entries} == {alice.pk}


def test_ledger_changelist_filters_by_kind_and_searches_by_username(admin_browser, alice, bob):
    ledger_post(user_id=bob.pk, amount=Decimal("-10"), kind=LedgerKind.BET_PLACED, reference_id=uuid4())
    by_kind = admin_browser.get(LEDGER, {"kind__exact": LedgerKind.BET_PLACED})
    assert [entry.user_id for entry in by_kind.context["cl"].result_list] == [bob.pk]
    by_name = admin_browser.get(LEDGER, {"q": "alice_w"})
    assert {entry.user_id for entry in by_name.context["cl"].result_list} == {alice.pk}


def test_ledger_has_no_add_permission(admin_browser):
    response = admin_browser.get(f"{LEDGER}add/")
    assert response.status_code == 403


def test_posting_to_the_ledger_add_page_writes_nothing(admin_browser, alice):
    before = LedgerEntry.objects.count()
    response = admin_browser.post(
        f"{LEDGER}add/",
        {"user": str(alice.pk), "amount": "500", "kind": LedgerKind.ADMIN_ADJUSTMENT, "balance_after": "1734.56"},
    )
    assert response.status_code == 403
    assert LedgerEntry.objects.count() == before


def test_a_ledger_entry_is_view_only(admin_browser, alice):
    entry = LedgerEntry.objects.filter(user=alice).first()
    response = admin_browser.get(f"{LEDGER}{entry.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="amount"' not in html
    assert 'name="_save"' not in html

    response = admin_browser.post(f"{LEDGER}{entry.pk}/change/", {"amount": "1", "description": "edited"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.description != "edited"


def test_a_ledger_entry_cannot_be_deleted(admin_browser, alice):
    entry = LedgerEntry.objects.filter(user=alice).first()
    assert admin_browser.get(f"{LEDGER}{entry.pk}/delete/").status_code == 403
    assert admin_browser.post(f"{LEDGER}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_ledger_changelist_offers_no_delete_action(admin_browser, alice):
    response = admin_browser.get(LEDGER)
    assert "delete_selected" not in response.content.decode()


def test_admin_stores_an_edited_email_in_lower_case_so_the_user_can_still_log_in(admin_browser):
    client = admin_browser
    target = UserFactory(username="mixedcase")
    url = reverse("admin:accounts_user_change", args=[target.pk])
    form = {
        "username": target.username,
        "email": "Mixed.Case@Example.COM",
        "is_active": "on",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.email == "mixed.case@example.com"
    assert (
        APIClient()
        .post("/api/v1/auth/login", {"email": "Mixed.Case@Example.COM", "password": DEFAULT_PASSWORD}, format="json")
        .status_code
        == 200
    )


# --- lists that fit a 1,400 px screen, and history that is never deleted (issue 13) ----------------------
def test_the_ledger_list_shows_who_made_a_row_before_its_long_description(admin_browser, superuser, alice):
    ledger_post(
        user_id=alice.pk,
        amount=Decimal("-1234.5"),
        kind=LedgerKind.ADMIN_ADJUSTMENT,
        description="Goodwill correction after the outage of the long weekend, agreed with support " * 2,
        created_by_id=superuser.pk,
    )

    response = admin_browser.get(LEDGER, {"kind__exact": "admin_adjustment"})

    headers = [str(header["text"]).lower() for header in response.context["result_headers"]]
    assert headers == [  # read-only: no action checkboxes
        "time (utc)",
        "user",
        "kind",
        "amount",
        "balance after",
        "created by",
        "description",
        "reference",
    ]
    page = response.content.decode()
    assert '<td class="field-amount__number">-1,234.50</td>' in page
    assert "root_admin" in page
    assert "…" in page


def test_credit_packages_are_retired_not_deleted(admin_browser):
    package = CreditPackageFactory()

    assert admin_browser.get(f"/admin/economy/creditpackage/{package.pk}/delete/").status_code == 403
    action_form = admin_browser.get("/admin/economy/creditpackage/").context["action_form"]
    assert action_form is None or "delete_selected" not in dict(action_form.fields["action"].choices)
    assert CreditPackage.objects.filter(pk=package.pk).exists()
