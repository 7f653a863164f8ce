"""Rate limits (SPEC §9): per IP before login, per user after; settings can change or disable them."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_pair_issue
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers.assertions import assert_error

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
USERS_ME = "/api/v1/users/me"
STRONG_PASSWORD = "s3cure-Passw0rd!"

pytestmark = pytest.mark.django_db


def client_from(ip: str) -> APIClient:
    return APIClient(REMOTE_ADDR=ip)


def bad_login(client: APIClient, **extra):
    return client.post(LOGIN, {"email": "someone@example.com", "password": "wrong-password"}, format="json", **extra)


def register(client: APIClient, n: int):
    body = {"username": f"signup_{n}", "email": f"signup_{n}@example.com", "password": STRONG_PASSWORD}
    return client.post(REGISTER, body, format="json")


def assert_rate_limited(response, max_wait: int) -> None:
    body = assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= max_wait
    assert body["details"].get("retryAfter") == retry_after


def test_login_allows_10_attempts_per_hour_then_429_with_retry_after():
    client = client_from("10.1.0.1")
    for _ in range(10):
        assert_error(bad_login(client), 401, "INVALID_CREDENTIALS")

    assert_rate_limited(bad_login(client), max_wait=3600)


def test_login_limit_applies_even_to_the_right_password(user):
    client = client_from("10.1.0.2")
    for _ in range(10):
        bad_login(client)

    response = client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")

    assert_rate_limited(response, max_wait=3600)


def test_login_limit_is_per_ip():
    limited = client_from("10.1.0.3")
    for _ in range(10):
        bad_login(limited)
    assert bad_login(limited).status_code == 429

    assert_error(bad_login(client_from("10.1.0.4")), 401, "INVALID_CREDENTIALS")


def test_login_limit_cannot_be_bypassed_by_spoofing_x_forwarded_for():
    # With no trusted proxy configured, a client-supplied X-Forwarded-For must not pick the bucket.
    client = client_from("10.1.0.5")
    for n in range(10):
        bad_login(client, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert_rate_limited(bad_login(client, HTTP_X_FORWARDED_FOR="198.51.100.250"), max_wait=3600)


def test_login_limit_resets_in_the_next_hour():
    client = client_from("10.1.0.6")
    for _ in range(10):
        bad_login(client)
    assert bad_login(client).status_code == 429

    with time_machine.travel(timedelta(hours=1, seconds=1)):
        assert_error(bad_login(client), 401, "INVALID_CREDENTIALS")


def test_register_allows_5_per_hour_then_429_without_creating_the_account():
    client = client_from("10.1.0.7")
    for n in range(5):
        assert register(client, n).status_code == 201

    assert_rate_limited(register(client, 5), max_wait=3600)
    assert not User.objects.filter(username="signup_5").exists()
    assert User.objects.count() == 5


def test_rate_limit_enabled_false_turns_limits_off(settings):
    settings.RATE_LIMIT_ENABLED = False
    client = client_from("10.1.0.8")

    login_statuses = {bad_login(client).status_code for _ in range(15)}
    register_statuses = {register(client, n).status_code for n in range(8)}

    assert login_statuses == {401}
    assert register_statuses == {201}


def test_rate_limits_are_settings(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/min"}
    client = client_from("10.1.0.9")
    bad_login(client)
    bad_login(client)

    assert_rate_limited(bad_login(client), max_wait=60)


def test_limits_are_per_user_after_login(settings, client_for):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default": "3/min"}
    alice, bob = UserFactory(), UserFactory()
    alice_client, bob_client = client_for(alice), client_for(bob)  # same IP (127.0.0.1)

    assert [alice_client.get(USERS_ME).status_code for _ in range(3)] == [200, 200, 200]
    assert_rate_limited(alice_client.get(USERS_ME), max_wait=60)

    assert [bob_client.get(USERS_ME).status_code for _ in range(3)] == [200, 200, 200]
    assert_rate_limited(bob_client.get(USERS_ME), max_wait=60)


def test_a_users_budget_follows_the_user_across_ips(settings, user):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default": "3/min"}
    access = token_pair_issue(user=user).access_token
    clients = [client_from(f"10.2.0.{n}") for n in range(4)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    assert [client.get(USERS_ME).status_code for client in clients[:3]] == [200, 200, 200]
    assert_rate_limited(clients[3].get(USERS_ME), max_wait=60)


def test_limits_count_in_the_database_cache_of_embedded_mode(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_entries"}
    }
    call_command("createcachetable")
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "3/hour"}
    client = client_from("10.1.1.1")
    for _ in range(3):
        assert_error(bad_login(client), 401, "INVALID_CREDENTIALS")

    assert_rate_limited(bad_login(client), max_wait=3600)
    assert_error(bad_login(client_from("10.1.1.2")), 401, "INVALID_CREDENTIALS")
