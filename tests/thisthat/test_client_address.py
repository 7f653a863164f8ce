"""The client address behind proxies (issue 10): NUM_PROXIES trusted proxies, one helper used by the
rate limiter and by the request log."""

import logging

import pytest
from rest_framework.test import APIClient

from tests.helpers.assertions import assert_error

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
PROXY = "10.0.0.2"


def bad_login(forwarded_for: str | None):
    client = APIClient(REMOTE_ADDR=PROXY)
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return client.post(LOGIN, {"email": "x@example.com", "password": "wrong"}, format="json", **extra)


@pytest.fixture
def behind_one_proxy(settings):
    settings.NUM_PROXIES = 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/hour"}


def test_behind_a_proxy_each_client_has_its_own_bucket(behind_one_proxy):
    for _ in range(2):
        bad_login("203.0.113.7")
    assert_error(bad_login("203.0.113.7"), 429, "RATE_LIMIT_EXCEEDED")

    assert_error(bad_login("203.0.113.8"), 401, "INVALID_CREDENTIALS")


def test_behind_a_proxy_a_forged_left_part_of_x_forwarded_for_does_not_pick_the_bucket(behind_one_proxy):
    for n in range(2):
        bad_login(f"198.51.100.{n}, 203.0.113.9")

    assert_error(bad_login("198.51.100.99, 203.0.113.9"), 429, "RATE_LIMIT_EXCEEDED")
    assert_error(bad_login("198.51.100.99, 203.0.113.10"), 401, "INVALID_CREDENTIALS")  # another client


def test_a_header_that_is_not_an_address_falls_back_to_the_proxy_address(behind_one_proxy):
    for n in range(2):
        bad_login(f"not-an-ip-{n}")

    assert_error(bad_login("not-an-ip-again"), 429, "RATE_LIMIT_EXCEEDED")  # all in the proxy's bucket
    assert_error(bad_login("203.0.113.11"), 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize(
    "num_proxies, forwarded_for, logged",
    [
        (0, "203.0.113.7", PROXY),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
        (1, None, PROXY),
        (1, "garbage", PROXY),
    ],
)
def test_the_request_log_names_the_same_client_address(settings, caplog, num_proxies, forwarded_for, logged):
    settings.NUM_PROXIES = num_proxies
    caplog.set_level(logging.INFO, logger="thisthat.request")

    bad_login(forwarded_for)

    [record] = [r for r in caplog.records if r.name == "thisthat.request"]
    assert record.client == logged
