import socket

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import revocation
from accounts.tokens import token_pair_issue
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with an empty cache (rate-limit counters included) in which the token
    revocation list is complete, as in a running system (tests of a lost list delete it)."""
    cache.delete_pattern("*")
    revocation.list_complete_mark([])
    yield
    cache.delete_pattern("*")


@pytest.fixture
def take_cache_down(settings):
    """Call to point the cache at a closed port, as if Redis were down (before the call, the real
    Redis answers). The port stays bound but never listens: connections are refused, and nothing
    else can start listening on it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

        def down() -> None:
            settings.CACHES = {
                "default": {
                    "BACKEND": "django_redis.cache.RedisCache",
                    "LOCATION": f"redis://127.0.0.1:{port}/0",
                    "KEY_PREFIX": "redis-down",
                    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
                }
            }

        yield down


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def auth_client(user) -> APIClient:
    """A client that sends `user`'s access token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).access_token}")
    return client


@pytest.fixture
def client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).access_token}")
        return client

    return make
