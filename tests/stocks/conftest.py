"""Fixtures of the stock tests (their helpers are in tests/helpers/stocks.py)."""

import pytest
from django.test import Client

from accounts.models import User
from stocks.models import Stock
from tests.factories import StockFactory, UserFactory


@pytest.fixture
def stock(db) -> Stock:
    """THIS: 10 credits at supply 0, +0.01 per share outstanding."""
    return StockFactory(symbol="THIS", name="THIS Inc.")


@pytest.fixture
def staff(db) -> User:
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_browser(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client
