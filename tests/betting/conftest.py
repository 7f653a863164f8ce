"""Fixtures of the betting tests (their helpers are in tests/helpers/betting.py)."""

import pytest
from django.test import Client

from accounts.models import User
from markets.models import Market
from tests.factories import MarketFactory, UserFactory


@pytest.fixture
def market(db) -> Market:
    return MarketFactory()


@pytest.fixture
def staff(db) -> User:
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_browser(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client
