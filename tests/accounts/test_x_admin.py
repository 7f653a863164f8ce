"""Staff and X accounts: the user page links the X account, an account without email saves with
none, and deleting the X account unlinks it."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User, XAccount
from tests.factories import UserFactory
from tests.helpers.x import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def x_user(x_standin) -> User:
    return User.objects.get(pk=sign_in()["user"]["id"])


def test_user_page_links_the_x_account(admin_browser, x_user):
    html = admin_browser.get(reverse("admin:accounts_user_change", args=[x_user.pk])).content.decode()

    account = XAccount.objects.get(user=x_user)
    assert reverse("admin:accounts_xaccount_change", args=[account.pk]) in html
    assert f"@{account.username}" in html


def test_saving_an_account_without_email_keeps_it_without_one(admin_browser, x_user):
    form = {"username": "renamed_x", "email": "", "is_active": "on"}

    response = admin_browser.post(reverse("admin:accounts_user_change", args=[x_user.pk]), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    x_user.refresh_from_db()
    assert x_user.username == "renamed_x" and x_user.email is None


def test_x_accounts_are_searchable_read_only_and_deleting_one_unlinks(admin_browser, x_user):
    account = XAccount.objects.get(user=x_user)
    changelist = admin_browser.get(reverse("admin:accounts_xaccount_changelist"), {"q": account.username})
    assert account.x_id in changelist.content.decode()
    change_page = admin_browser.get(reverse("admin:accounts_xaccount_change", args=[account.pk])).content.decode()
    assert 'name="username"' not in change_page

    response = admin_browser.post(reverse("admin:accounts_xaccount_delete", args=[account.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not XAccount.objects.filter(user=x_user).exists()
