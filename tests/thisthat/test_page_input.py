"""Validated query strings are remembered per input class; each caller still gets its own values,
and a refused query string is refused every time."""

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from thisthat.pagination import page_input

PageInput = page_input(default_limit=20, max_limit=100, name="TestPageInput")
OtherPageInput = page_input(default_limit=5, max_limit=10, name="OtherTestPageInput")


def query(string: str) -> Request:
    return Request(APIRequestFactory().get(f"/items?{string}"))


def test_a_repeated_query_string_gives_the_same_values_to_each_caller():
    first = PageInput.from_query(query("limit=7&offset=3"))
    first["limit"] = 99  # a caller's own copy

    assert PageInput.from_query(query("offset=3&limit=7")) == {"limit": 7, "offset": 3}
    assert OtherPageInput.from_query(query("offset=3")) == {"limit": 5, "offset": 3}  # its own defaults


@pytest.mark.parametrize("attempt", [1, 2])
def test_a_refused_query_string_is_refused_every_time(attempt):
    with pytest.raises(ValidationError):
        PageInput.from_query(query("limit=500"))
