"""Schema helpers: the error envelope every endpoint documents, and the tag (Swagger UI's section)
of each endpoint, from its path."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .http import DEVICE_ID_HEADER

# The first rule whose prefix starts the path (after /api/v1/) names the tag; the tags, their order
# and descriptions are SPECTACULAR_SETTINGS["TAGS"].
_TAG_RULES = [
    ("markets/ingest", "Operations"),
    ("monitoring/", "Operations"),
    ("auth/", "Auth"),
    ("users/", "Users"),
    ("markets", "Markets"),
    ("bets", "Bets"),
    ("economy/", "Economy"),
    ("rewards/", "Economy"),
    ("referrals/", "Economy"),
    ("purchases", "Economy"),
    ("transactions/", "Economy"),
    ("leaderboard/", "Leaderboard"),
    ("health", "Operations"),
    ("ready", "Operations"),
]


class TaggedAutoSchema(AutoSchema):
    """Tags each endpoint by its area rather than by its first path segment, which is "api"
    for every one of them."""

    def get_tags(self) -> list[str]:
        path = self.path.removeprefix("/").removeprefix("api/v1/")
        for prefix, tag in _TAG_RULES:
            if path.startswith(prefix):
                return [tag]
        raise ValueError(f"no OpenAPI tag for {self.path}: add a rule to thisthat.openapi._TAG_RULES")


class ErrorEnvelope(serializers.Serializer):
    error = serializers.CharField(help_text="Human readable message.")
    code = serializers.CharField(help_text="Machine readable code, e.g. VALIDATION_ERROR.")
    status_code = serializers.IntegerField()
    details = serializers.DictField(help_text="Field errors or extra context.")


class MessageOutput(serializers.Serializer):
    message = serializers.CharField()


_DESCRIPTIONS = {
    400: "Invalid input (VALIDATION_ERROR or a domain code).",
    401: "NOT_AUTHENTICATED, TOKEN_INVALID or INVALID_CREDENTIALS.",
    403: "PERMISSION_DENIED; ACCOUNT_SUSPENDED for a suspended account's bets, cash-outs, claims, purchases and "
    "stock trades; ACCOUNT_DISABLED for a deactivated account signing in with X.",
    404: "Not found.",
    409: "Conflict with the current state.",
    429: "RATE_LIMIT_EXCEEDED; see the Retry-After header.",
    503: "A dependency is unavailable (UPSTREAM_UNAVAILABLE, or SERVICE_UNAVAILABLE with Retry-After).",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(ErrorEnvelope, description=_DESCRIPTIONS[status]) for status in (*statuses, 429)}


DEVICE_ID_PARAMETER = OpenApiParameter(
    DEVICE_ID_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional: the app's random install id (1 to 64 of A-Z a-z 0-9 . _ : -; anything else is "
    "ignored). Recorded with sign-ups, logins, reward claims, purchases, bets, cash-outs and stock trades for the "
    "anti-abuse rules, and purged after the retention period.",
)
