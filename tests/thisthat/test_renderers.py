"""The orjson renderer writes exactly the bytes of the stock one (DRF's JSONRenderer behind
djangorestframework-camel-case's camelCase), for every kind of value the API returns."""

import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from djangorestframework_camel_case.render import CamelCaseJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from markets.models import MarketStatus
from thisthat.renderers import JSONRenderer, render_json

STOCK, FAST = CamelCaseJSONRenderer(), JSONRenderer()

CASES = {
    "decimals": {
        "credit_balance": Decimal("1000.00"),
        "tiny": Decimal("0.00001"),
        "odds": Decimal("0.0001"),
        "negative_pnl": Decimal("-12.50"),
        "huge": Decimal("12345678901234567.89"),
        "zero": Decimal("0E-8"),
        "many": [Decimal("0.1") * n for n in range(30)],
    },
    "floats": {"duration_seconds": 0.1 + 0.2, "small": 1e-7, "big": 1e22, "whole": 3.0},
    "datetimes": {
        "created_at": datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC),
        "expires_at": datetime(2027, 1, 1, tzinfo=UTC),
        "elsewhere": datetime(2026, 6, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))),
        "naive": datetime(2026, 1, 2, 3, 4, 5),
        "day": date(2026, 12, 1),
        "moment": time(12, 30, 1, 5),
        "duration": timedelta(minutes=90),
    },
    "nested_camel_case": {
        "markets": [
            {"this_odds": Decimal("0.45"), "maker": {"shares_this": Decimal("10.5"), "b_2_value": 1}},
            {"this_odds": None, "maker": None, "polymarket_id": "0xabc", "_private": True, "a__b": 2},
        ],
        "page_info": OrderedDict([("next_offset", 20), ("has_more", False)]),
        "tuple_value": (1, "two", {"three_four": 5}),
    },
    "strings": {
        "title": 'Will it rain? \u2028 line \u2029 para " quote \\ back \n\t\x01 \x7f é 日本 🚀',
        "lazy": gettext_lazy("Market"),
        "choice": MarketStatus.OPEN,
        "uuid": uuid.UUID(int=7),
        "bytes_like": b"ab",
    },
    "non_string_keys": {1: "one", "two_words": {2: "deep"}},
    "big_int": {"value": 2**70},
    "serializer_containers": ReturnDict(
        {"user_id": "x", "items": ReturnList([{"item_id": 1}], serializer=None)}, serializer=None
    ),
    "empty": {},
    "top_level_list": [{"some_key": 1}, [], None, True],
}


@pytest.mark.parametrize("name", CASES)
def test_the_bytes_are_those_of_the_stock_renderer(name):
    data = CASES[name]

    assert FAST.render(data) == STOCK.render(data)


def test_a_pretty_printed_body_is_the_stock_one():
    data = CASES["nested_camel_case"]

    assert FAST.render(data, "application/json; indent=4") == STOCK.render(data, "application/json; indent=4")


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), float("inf"), float("nan")])
def test_non_finite_numbers_are_refused_as_the_stock_renderer_refuses_them(bad):
    with pytest.raises(ValueError):
        STOCK.render({"value": bad})
    with pytest.raises(ValueError):
        FAST.render({"value": bad})


def test_nothing_renders_as_an_empty_body():
    assert FAST.render(None) == STOCK.render(None) == b""


def test_render_json_is_what_a_response_carries(api_client, db):
    response = api_client.get("/api/v1/markets")

    assert response.content == render_json(response.data)
