"""Users in the admin (issue 13): never deleted — their bets and ledger rows are history — but
deactivated with a clear action, which ends their sessions; the list fits a 1,400 px screen."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_pair_issue
from leaderboard.models import Period, Standing
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers.assertions import assert_error

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


@pytest.fixture
def staff() -> User:
    return UserFactory(username="root_admin", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_browser(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def act(client: Client, action: str, users: list[User]):
    return client.post(USERS, {"action": action, "_selected_action": [str(user.pk) for user in users], "index": 0})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_users_cannot_be_deleted_from_the_admin(admin_browser):
    alice = UserFactory()

    assert admin_browser.get(f"{USERS}{alice.pk}/delete/").status_code == 403
    assert admin_browser.post(f"{USERS}{alice.pk}/delete/", {"post": "yes"}).status_code == 403
    page = admin_browser.get(f"{USERS}{alice.pk}/change/").content.decode()
    assert "deletelink" not in page
    assert User.objects.filter(pk=alice.pk).exists()


def test_the_list_offers_deactivation_and_reactivation_but_no_delete(admin_browser):
    UserFactory()

    choices = dict(admin_browser.get(USERS).context["action_form"].fields["action"].choices)

    assert "delete_selected" not in choices
    assert choices["deactivate"] == "Deactivate the selected users (they can no longer log in)"
    assert choices["reactivate"] == "Reactivate the selected users"


def test_deactivating_ends_the_users_sessions_and_keeps_their_history(admin_browser):
    alice, bob = UserFactory(balance=Decimal("50")), UserFactory()
    tokens = token_pair_issue(user=alice)

    response = act(admin_browser, "deactivate", [alice, bob])

    assert response.status_code == 302
    assert messages_of(response) == ["Deactivated 2 users; their history is kept."]
    alice.refresh_from_db()
    assert not alice.is_active
    assert alice.credit_balance == Decimal("50.00")  # nothing else touched
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")
    assert api.get("/api/v1/users/me").status_code == 401
    refreshed = APIClient().post("/api/v1/auth/refresh", {"refreshToken": tokens.refresh_token}, format="json")
    assert_error(refreshed, 401, "TOKEN_INVALID")
    login = APIClient().post("/api/v1/auth/login", {"email": alice.email, "password": DEFAULT_PASSWORD}, format="json")
    assert_error(login, 401, "INVALID_CREDENTIALS")


def test_staff_cannot_deactivate_themselves(admin_browser, staff):
    alice = UserFactory()

    response = act(admin_browser, "deactivate", [staff, alice])

    assert messages_of(response) == [
        "You cannot deactivate your own account; it was left active.",
        "Deactivated 1 user; their history is kept.",
    ]
    staff.refresh_from_db()
    assert staff.is_active


def test_reactivating_lets_the_user_log_in_again(admin_browser):
    alice = UserFactory()
    User.objects.filter(pk=alice.pk).update(is_active=False)

    response = act(admin_browser, "reactivate", [alice])

    assert messages_of(response) == ["Reactivated 1 user."]
    login = APIClient().post("/api/v1/auth/login", {"email": alice.email, "password": DEFAULT_PASSWORD}, format="json")
    assert login.status_code == 200


def test_the_user_list_formats_credits_and_dates_on_one_line(admin_browser):
    UserFactory(username="whale", balance=Decimal("123456.5"))

    response = admin_browser.get(USERS)

    headers = [str(header["text"]).lower() for header in response.context["result_headers"]]
    assert headers[1:] == [
        "username",
        "email",
        "balance",
        "volume",
        "pnl",
        "is staff",
        "is active",
        "suspended",
        "joined (utc)",
    ]
    page = response.content.decode()
    assert re.search(r'<td class="field-credit_balance__number">123,456\.50</td>', page)
    assert re.search(r'<td class="field-created_at__time">\d{4}-\d\d-\d\d \d\d:\d\d</td>', page)


def test_a_password_change_in_the_admin_while_redis_is_down_changes_nothing_and_says_why(
    admin_browser, take_cache_down
):
    alice = UserFactory()
    token_pair_issue(user=alice)
    before = User.objects.get(pk=alice.pk).password
    take_cache_down()

    page = f"{USERS}{alice.pk}/password/"
    response = admin_browser.post(
        page, {"password1": "An0ther-l0ng-passphrase", "password2": "An0ther-l0ng-passphrase"}, follow=True
    )

    assert response.status_code == 200
    assert any(message.startswith("The password was not changed:") for message in messages_of(response))
    assert User.objects.get(pk=alice.pk).password == before  # the change was rolled back with the sign-ins' end
    assert alice.auth_sessions.filter(ended_at__isnull=True).count() == 1


def test_the_user_page_shows_the_all_time_ranks_of_the_standings(admin_browser):
    ranked, unranked = UserFactory(), UserFactory()
    Standing.objects.create(
        period=Period.ALL, user=ranked, pnl=5, volume=10, pnl_rank=None, volume_rank=3, volume_position=3,
        computed_at=timezone.now(),
    )  # fmt: skip

    def ranks_on_page(user: User) -> list[str]:
        html = admin_browser.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
        return re.findall(r'field-(?:pnl|volume)_rank">.*?<div class="readonly">([^<]*)</div>', html, re.S)

    assert ranks_on_page(ranked) == ["-", "3"]
    assert ranks_on_page(unranked) == ["-", "-"]
