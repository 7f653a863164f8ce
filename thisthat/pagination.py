"""limit/offset lists: `{"<items>": [...], "total": N, "limit": L, "offset": O}` (SPEC §4)."""

from rest_framework import serializers

from .serializers import InputSerializer

MAX_OFFSET = 1_000_000


def page_input(*, default_limit: int, max_limit: int) -> type[InputSerializer]:
    """A base for list query parameters: validated `limit` and `offset`; subclass it to add filters."""

    class PageInput(InputSerializer):
        limit = serializers.IntegerField(min_value=1, max_value=max_limit, default=default_limit)
        offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)

    return PageInput


class PageOutput(serializers.Serializer):
    """The list envelope; subclasses add the items field (e.g. `markets = MarketOutput(many=True)`)."""

    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
