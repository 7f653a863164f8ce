"""The bare view: one page of 20 market-shaped objects, built once, rendered on every request.

The objects have the keys and value types of a cached `GET /api/v1/markets` page (what
`MarketOutput(...).data` holds: Decimals, ISO strings, None), rendered by the stock camelCase renderer
on every request (the API now keeps cached pages rendered: see bench/bare_settings.py).
"""

import uuid
from decimal import Decimal

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


def _market(n: int) -> dict:
    odds = Decimal(n + 20) / 100
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "polymarket_id": f"0x{n:064x}",
        "slug": f"will-bare-market-{n}-resolve-yes-by-december-31-2027",
        "title": f"Will bare market {n} resolve YES by December 31, 2027?",
        "description": "This market resolves to YES if the event happens before the deadline, else NO. " * 2,
        "this_option": "Yes",
        "that_option": "No",
        "this_odds": odds,
        "that_odds": 1 - odds,
        "liquidity": Decimal("125000.50") + n,
        "volume": Decimal("2500000.25") - n,
        "category": "Politics",
        "market_type": "polymarket",
        "status": "open",
        "resolution": None,
        "image_url": f"https://polymarket-upload.s3.us-east-2.amazonaws.com/bare-{n}.png",
        "expires_at": "2027-12-31T12:00:00Z",
        "resolved_at": None,
        "odds_updated_at": "2026-12-01T12:00:00.123456Z",
        "created_at": "2026-11-22T08:30:00.654321Z",
        "maker": None,  # a Polymarket market has no market maker
    }


PAGE = {"markets": [_market(n) for n in range(20)], "total": 20, "limit": 20, "offset": 0}


class BareMarketsApi(APIView):
    def get(self, request):
        return Response(PAGE)


urlpatterns = [path("markets", BareMarketsApi.as_view())]
