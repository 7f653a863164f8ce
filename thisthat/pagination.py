"""Validated limit/offset pagination for list endpoints (SPEC §4: `{<items>, total, limit, offset}`).

PageInput = page_input(default_limit=50, max_limit=200)
page = PageInput.from_query(request)            # 400 VALIDATION_ERROR on a bad limit/offset
items, total = paginate(queryset, **page)
"""

from collections import OrderedDict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from threading import Lock
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request

from .serializers import InputSerializer

# Validated query strings, per input class: building a serializer (it deep-copies its fields) took
# a tenth of a cached listing's CPU, and most requests repeat a few query strings. Only values that
# cannot be changed in place are kept; each caller gets its own dict.
_VALID_QUERIES: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_VALID_QUERIES_MAX = 1024
_VALID_QUERIES_LOCK = Lock()
_IMMUTABLE = (str, int, float, Decimal, date, type(None))


class PageInputBase(InputSerializer):
    @classmethod
    def from_query(cls, request: Request, **kwargs) -> dict[str, Any]:
        """Validate the query string (other parameters are ignored unless declared) and return the values."""
        key = (cls, tuple(sorted((name, tuple(values)) for name, values in request.query_params.lists())))
        found = None if kwargs else _VALID_QUERIES.get(key)
        if found is not None:
            return dict(found)
        data = cls(data=request.query_params, **kwargs)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if not kwargs and all(isinstance(value, _IMMUTABLE) for value in values.values()):
            with _VALID_QUERIES_LOCK:
                _VALID_QUERIES[key] = dict(values)
                if len(_VALID_QUERIES) > _VALID_QUERIES_MAX:
                    _VALID_QUERIES.popitem(last=False)
        return values


def page_input(*, default_limit: int = 20, max_limit: int = 100, name: str = "PageInput") -> type[PageInputBase]:
    """A serializer class for `limit` (1..max_limit) and `offset` (>= 0) query parameters.

    Subclass it to add filters; give each subclass a unique name for the OpenAPI schema.
    """
    attrs = {
        "limit": serializers.IntegerField(
            min_value=1, max_value=max_limit, default=default_limit, help_text=f"1 to {max_limit}."
        ),
        "offset": serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0),
        "__module__": __name__,
    }
    return type(name, (PageInputBase,), attrs)


def paginate(queryset: QuerySet, *, limit: int, offset: int, **_ignored: Any) -> tuple[Sequence, int]:
    """One page of `queryset` and the total count (two queries)."""
    return list(queryset[offset : offset + limit]), queryset.count()


class PageOutput(serializers.Serializer):
    """Fields every list response carries besides its items."""

    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
