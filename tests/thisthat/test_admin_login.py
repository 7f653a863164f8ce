"""The admin sign-in is rate limited like the API login (issue 10): per client address and per
submitted account, counted in the shared cache, with a message on the form; it fails closed when
the cache cannot count."""

import pytest
from django.test import Client

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff():
    return UserFactory(username="staff_login", email="staff.login@example.com", is_staff=True, is_superuser=True)


def sign_in(client: Client, email: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password})


def signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def assert_refused(response, status: int, message: str) -> None:
    assert response.status_code == status
    assert int(response["Retry-After"]) > 0
    assert message in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_the_right_password_signs_in(staff):
    client = Client()

    response = sign_in(client, staff.email, DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_25_wrong_passwords_then_the_right_one_is_refused(staff):
    client = Client(REMOTE_ADDR="10.9.0.1")
    statuses = [sign_in(client, staff.email, f"wrong-{n}").status_code for n in range(25)]

    response = sign_in(client, staff.email, DEFAULT_PASSWORD)

    assert statuses[:10] == [200] * 10  # the form again, "enter a correct email and password"
    assert set(statuses[10:]) == {429}
    assert_refused(response, 429, "Too many sign-in attempts")
    assert not signed_in(client)


def test_the_account_limit_holds_across_addresses(staff):
    for n in range(10):
        sign_in(Client(REMOTE_ADDR=f"10.9.1.{n}"), staff.email, "wrong")

    fresh_address = Client(REMOTE_ADDR="10.9.1.200")
    response = sign_in(fresh_address, staff.email.upper(), DEFAULT_PASSWORD)

    assert_refused(response, 429, "Too many sign-in attempts")
    assert not signed_in(fresh_address)


def test_the_address_limit_holds_across_accounts(staff):
    client = Client(REMOTE_ADDR="10.9.2.1")
    for n in range(10):
        sign_in(client, f"nobody{n}@example.com", "wrong")

    assert_refused(sign_in(client, staff.email, DEFAULT_PASSWORD), 429, "Too many sign-in attempts")


def test_another_account_from_another_address_is_not_affected(staff):
    for _ in range(12):
        sign_in(Client(REMOTE_ADDR="10.9.3.1"), "someone.else@example.com", "wrong")
    client = Client(REMOTE_ADDR="10.9.3.2")

    assert sign_in(client, staff.email, DEFAULT_PASSWORD).status_code == 302
    assert signed_in(client)


def test_the_admin_login_rate_is_a_setting(staff, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "admin_login": "2/min"}
    client = Client(REMOTE_ADDR="10.9.4.1")
    sign_in(client, staff.email, "wrong")
    sign_in(client, staff.email, "wrong")

    response = sign_in(client, staff.email, DEFAULT_PASSWORD)

    assert_refused(response, 429, "Try again in 1 minute.")
    assert int(response["Retry-After"]) <= 60


def test_rate_limit_enabled_false_turns_the_admin_limit_off(staff, settings):
    settings.RATE_LIMIT_ENABLED = False
    client = Client(REMOTE_ADDR="10.9.5.1")
    for _ in range(12):
        sign_in(client, staff.email, "wrong")

    assert sign_in(client, staff.email, DEFAULT_PASSWORD).status_code == 302


def test_the_api_login_and_the_admin_login_count_separately(staff, settings):
    from rest_framework.test import APIClient

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/hour"}
    api = APIClient(REMOTE_ADDR="10.9.6.1")
    for _ in range(3):
        api.post("/api/v1/auth/login", {"email": staff.email, "password": "wrong"}, format="json")

    assert sign_in(Client(REMOTE_ADDR="10.9.6.1"), staff.email, DEFAULT_PASSWORD).status_code == 302


def test_with_the_cache_down_sign_in_is_refused_with_a_message(staff, take_cache_down):
    take_cache_down()
    client = Client(REMOTE_ADDR="10.9.7.1")

    response = sign_in(client, staff.email, DEFAULT_PASSWORD)

    assert_refused(response, 503, "Sign-in is unavailable right now")
    assert not signed_in(client)
