from dataclasses import asdict

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from thisthat.openapi import error_responses
from thisthat.pagination import page_input, paginate
from thisthat.renderers import RenderedResponse
from thisthat.serializers import InputSerializer

from .cache import listing_cached
from .models import MarketStatus, MarketType
from .selectors import (
    SORTS,
    MarketFilters,
    market_categories,
    market_get,
    market_list,
    market_page_body,
    markets_random,
    odds_history,
    open_markets_next_expiry,
)
from .serializers import CategoryListOutput, MarketListOutput, MarketOutput, MarketsOutput, OddsHistoryOutput

MARKET_ID = OpenApiParameter("market_id", str, OpenApiParameter.PATH, description="Market UUID.")


class MarketListInput(page_input(default_limit=20, max_limit=100, name="MarketListPageInput")):
    category = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    type = serializers.ChoiceField(choices=MarketType.choices, required=False, default="", allow_blank=True)
    status = serializers.ChoiceField(
        choices=[*MarketStatus.values, "all"], required=False, default=MarketStatus.OPEN, allow_blank=True
    )
    q = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    sort = serializers.ChoiceField(choices=list(SORTS), required=False, default="trending", allow_blank=True)


def _market_page(request, *, category: str | None = None) -> bytes:
    query = dict(MarketListInput.from_query(request))
    if category is not None:
        query["category"] = category
    limit, offset = query.pop("limit"), query.pop("offset")
    filters = MarketFilters(
        status=query["status"] or MarketStatus.OPEN,
        category=query["category"].strip(),
        market_type=query["type"],
        q=query["q"].strip(),
        sort=query["sort"] or "trending",
    )

    now = timezone.now()
    expiries: list = []

    def build() -> dict:
        page, total = paginate(market_list(filters=filters, now=now), limit=limit, offset=offset)
        expiries.extend(market.expires_at for market in page if market.expires_at and market.expires_at > now)
        return {"markets": MarketOutput(page, many=True).data, "total": total, "limit": limit, "offset": offset}

    # A market on the page that expires turns from open to closed: the page must not outlive that.
    params = {**asdict(filters), "limit": limit, "offset": offset}
    return listing_cached("list", params, build, changes_at=lambda: min(expiries, default=None))


class MarketListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="markets_list",
        parameters=[MarketListInput],
        responses={200: MarketListOutput, **error_responses(400)},
    )
    def get(self, request):
        return RenderedResponse(_market_page(request))


class MarketCategoryListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="markets_by_category",
        parameters=[MarketListInput, OpenApiParameter("slug", str, OpenApiParameter.PATH)],
        responses={200: MarketListOutput, **error_responses(400)},
    )
    def get(self, request, slug: str):
        return RenderedResponse(_market_page(request, category=slug))


class MarketCategoriesApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="markets_categories", responses={200: CategoryListOutput, **error_responses()})
    def get(self, request):
        def build() -> dict:
            return CategoryListOutput({"categories": market_categories()}).data

        return RenderedResponse(listing_cached("categories", {}, build, changes_at=open_markets_next_expiry))


class MarketRandomInput(InputSerializer):
    count = serializers.IntegerField(min_value=1, max_value=50, default=10)


class MarketRandomApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="markets_random",
        parameters=[MarketRandomInput],
        responses={200: MarketsOutput, **error_responses(400)},
    )
    def get(self, request):
        data = MarketRandomInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        return Response(MarketsOutput({"markets": markets_random(count=data.validated_data["count"])}).data)


class MarketDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="markets_retrieve", parameters=[MARKET_ID], responses={200: MarketOutput, **error_responses(404)}
    )
    def get(self, request, market_id: str):
        return RenderedResponse(market_page_body(market_id=market_id, render=lambda market: MarketOutput(market).data))


OddsHistoryInput = page_input(default_limit=500, max_limit=1000, name="OddsHistoryPageInput")


class MarketOddsHistoryApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="markets_odds_history",
        parameters=[MARKET_ID, OddsHistoryInput],
        responses={200: OddsHistoryOutput, **error_responses(400, 404)},
        description="The market's odds after each change, oldest first: every bet and cash-out on a credits "
        "market (its market maker moves them) and the starting odds staff set. 404 MARKET_NOT_FOUND.",
    )
    def get(self, request, market_id: str):
        market = market_get(market_id=market_id)
        query = OddsHistoryInput.from_query(request)
        page, total = paginate(odds_history(market_id=market.pk), limit=query["limit"], offset=query["offset"])
        body = {"market_id": market.pk, "history": page, "total": total, "limit": query["limit"]}
        return Response(OddsHistoryOutput({**body, "offset": query["offset"]}).data)
