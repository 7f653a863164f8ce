"""Validated limit/offset pagination for list endpoints (SPEC §4: `{<items>, total, limit, offset}`).

PageInput = page_input(default_limit=50, max_limit=200)
page = PageInput.from_query(request)            # 400 VALIDATION_ERROR on a bad limit/offset
items, total = paginate(queryset, **page)
"""

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request

from .serializers import InputSerializer


class PageInputBase(InputSerializer):
    @classmethod
    def from_query(cls, request: Request, **kwargs) -> dict[str, Any]:
        """Validate the query string (other parameters are ignored unless declared) and return the values."""
        data = cls(data=request.query_params, **kwargs)
        data.is_valid(raise_exception=True)
        return data.validated_data


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
