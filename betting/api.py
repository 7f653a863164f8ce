"""Bet endpoints (SPEC §5): thin views that parse, call one service or selector, and render."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from idempotency.http import IDEMPOTENCY_PARAMETER, idempotent
from markets.models import Side
from thisthat.http import client_of
from thisthat.openapi import DEVICE_ID_PARAMETER, error_responses
from thisthat.pagination import page_input, paginate
from thisthat.serializers import InputSerializer, PlainDecimalField

from . import selectors, services
from .models import BetStatus
from .rules import DEFAULT_MAX_SLIPPAGE
from .serializers import BetListOutput, BetOutput, BetPlacedOutput, BetQuoteOutput, BetSoldOutput, PortfolioOutput

BET_ID = OpenApiParameter("bet_id", str, OpenApiParameter.PATH, description="Bet UUID.")


class BetPlaceApi(APIView):
    throttle_scope = {"POST": "bets"}

    class BetPlaceInput(InputSerializer):
        market_id = serializers.UUIDField()
        side = serializers.ChoiceField(choices=Side.choices)
        amount = PlainDecimalField()
        expected_odds = PlainDecimalField(required=False, min_value=0, max_value=1)
        max_slippage = PlainDecimalField(required=False, min_value=0, max_value=1, default=DEFAULT_MAX_SLIPPAGE)

    @extend_schema(
        operation_id="bets_place",
        request=BetPlaceInput,
        parameters=[IDEMPOTENCY_PARAMETER, DEVICE_ID_PARAMETER],
        responses={201: BetPlacedOutput, **error_responses(400, 401, 403, 404, 409)},
        description="On a credits market the bet buys shares from the market maker: oddsAtBet is the average "
        "price paid (amount / shares), potentialPayout the shares, and the market's odds move; expectedOdds is "
        "compared with that average price. 400 INVALID_BET_AMOUNT or INSUFFICIENT_BALANCE; 403 ACCOUNT_SUSPENDED; "
        "404 MARKET_NOT_FOUND; "
        "409 MARKET_CLOSED, ODDS_UNAVAILABLE, ODDS_CHANGED (with expectedOdds, when the odds moved more than "
        "maxSlippage), PRICE_IMPACT_TOO_LARGE (a credits bet would move its odds by more than MAX_PRICE_IMPACT; "
        "details.maxAmount), ODDS_LIMIT_REACHED (it would take them past 0.99; details.maxAmount) or "
        "IDEMPOTENCY_CONFLICT.",
    )
    def post(self, request):
        data = self.BetPlaceInput(data=request.data)
        data.is_valid(raise_exception=True)

        def run() -> Response:
            placed = services.bet_place(user_id=request.user.pk, client=client_of(request), **data.validated_data)
            return Response(BetPlacedOutput(placed).data, status=201)

        return idempotent(request, scope="bets", run=run)


class BetQuoteApi(APIView):
    @extend_schema(
        operation_id="bets_quote",
        request=BetPlaceApi.BetPlaceInput,
        responses={200: BetQuoteOutput, **error_responses(400, 401, 404, 409)},
        description="What POST /bets with the same body would get now; nothing is written. On a credits market "
        "the market maker's price for the shares; on a polymarket market its current odds (priceImpact 0). The "
        "same refusals as POST /bets except INSUFFICIENT_BALANCE and ACCOUNT_SUSPENDED (a quote costs nothing): "
        "400 INVALID_BET_AMOUNT; 404 MARKET_NOT_FOUND; "
        "409 MARKET_CLOSED, ODDS_UNAVAILABLE, ODDS_CHANGED, PRICE_IMPACT_TOO_LARGE, ODDS_LIMIT_REACHED.",
    )
    def post(self, request):
        data = BetPlaceApi.BetPlaceInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(BetQuoteOutput(services.bet_quote(**data.validated_data)).data)


class BetListInput(page_input(default_limit=20, max_limit=100, name="BetListPageInput")):
    status = serializers.ChoiceField(choices=BetStatus.choices, required=False, default="", allow_blank=True)
    marketId = serializers.UUIDField(source="market_id", required=False, default=None)  # noqa: N815


class BetListApi(APIView):
    @extend_schema(
        operation_id="bets_me", parameters=[BetListInput], responses={200: BetListOutput, **error_responses(400, 401)}
    )
    def get(self, request):
        query = BetListInput.from_query(request)
        bets = selectors.bets_for_user(user_id=request.user.pk, status=query["status"], market_id=query["market_id"])
        page, total = paginate(bets, limit=query["limit"], offset=query["offset"])
        return Response(
            BetListOutput({"bets": page, "total": total, "limit": query["limit"], "offset": query["offset"]}).data
        )


class BetDetailApi(APIView):
    @extend_schema(
        operation_id="bets_retrieve", parameters=[BET_ID], responses={200: BetOutput, **error_responses(401, 404)}
    )
    def get(self, request, bet_id: str):
        return Response(BetOutput(selectors.bet_get_for_user(user_id=request.user.pk, bet_id=bet_id)).data)


class BetSellApi(APIView):
    class BetSellInput(InputSerializer):
        expected_value = PlainDecimalField(required=False, min_value=0)

    @extend_schema(
        operation_id="bets_sell",
        parameters=[BET_ID, IDEMPOTENCY_PARAMETER, DEVICE_ID_PARAMETER],
        request=BetSellInput,
        responses={200: BetSoldOutput, **error_responses(400, 401, 403, 404, 409)},
        description="Cash out: on a polymarket market at potentialPayout times the current odds of the bet's side; "
        "on a credits market the shares are sold back to the market maker at its price (its odds move). 403 "
        "ACCOUNT_SUSPENDED for a suspended account. 409 "
        "BET_NOT_SELLABLE when the bet is not pending or its market is not open; 409 ODDS_CHANGED when "
        "expectedValue is given and the value fell by more than 2 %; 409 ODDS_LIMIT_REACHED when the sale would "
        "take the odds under 0.01.",
    )
    def post(self, request, bet_id: str):
        data = self.BetSellInput(data=request.data)
        data.is_valid(raise_exception=True)

        def run() -> Response:
            sold = services.bet_sell(
                user_id=request.user.pk, bet_id=bet_id, client=client_of(request), **data.validated_data
            )
            return Response(BetSoldOutput(sold).data)

        return idempotent(request, scope="bets-sell", run=run)


class PortfolioApi(APIView):
    @extend_schema(
        operation_id="economy_portfolio",
        responses={200: PortfolioOutput, **error_responses(401)},
        description="Pending bets valued at what a cash-out would pay now, stock holdings at what selling every "
        "share now would pay, and totals across both.",
    )
    def get(self, request):
        portfolio = selectors.portfolio_for_user(user_id=request.user.pk)
        body = {
            "credit_balance": request.user.credit_balance,
            "positions": portfolio.positions,
            "holdings": portfolio.holdings,
            "totals": portfolio,
        }
        return Response(PortfolioOutput(body).data)
