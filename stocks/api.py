"""Stock endpoints (SPEC §5 [stocks], under /economy/): thin views that parse, call one service or
selector, and render."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from idempotency.http import IDEMPOTENCY_PARAMETER, idempotent
from thisthat.http import client_of
from thisthat.openapi import DEVICE_ID_PARAMETER, error_responses
from thisthat.pagination import page_input, paginate
from thisthat.serializers import InputSerializer, PlainDecimalField

from . import selectors, services
from .models import TradeSide
from .serializers import (
    StockDetailOutput,
    StockListOutput,
    StockQuoteOutput,
    StockTradedOutput,
    StockTradeListOutput,
)

SYMBOL = OpenApiParameter("symbol", OpenApiTypes.STR, OpenApiParameter.PATH, description="e.g. THIS (any case).")
ROUNDING = (
    "Shares are fractional, in hundredths (at most 2 decimals); credits are whole cents. Every rounding favours "
    "the house: a buy costs the curve's integral over its shares rounded up to the cent, a sale pays it rounded "
    "down, the fee (STOCK_FEE_RATE of that, 0 by default) is rounded up, and a budget in credits buys the most "
    "hundredths of a share it covers. So buying and selling the same shares back never returns more than they "
    "cost."
)

_THIS = {
    "symbol": "THIS",
    "name": "THIS Inc.",
    "description": "Backs every THIS.",
    "imageUrl": "https://example.com/this.png",
    "price": 10.06,
    "supply": 6.0,
    "holders": 1,
    "change24h": 0.006,
    "tradingEnabled": True,
}
_BOUGHT_TRADE = {
    "id": "6f1c2a0e-5a7e-4d55-9a83-0d3a2f7f4b11",
    "symbol": "THIS",
    "side": "buy",
    "shares": 10.0,
    "credits": 100.5,
    "fee": 0.0,
    "averagePrice": 10.05,
    "priceAfter": 10.1,
    "supplyAfter": 10.0,
    "realizedPnL": None,
    "createdAt": "2026-05-01T12:00:00Z",
}
_SOLD_TRADE = _BOUGHT_TRADE | {
    "id": "0b8d7e55-2f0c-4b6e-8d1a-3c9e5f1a2b44",
    "side": "sell",
    "shares": 4.0,
    "credits": 40.32,
    "averagePrice": 10.08,
    "priceAfter": 10.06,
    "supplyAfter": 6.0,
    "realizedPnL": 0.12,
    "createdAt": "2026-05-01T12:05:00Z",
}


class StockListApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="economy_stocks_list",
        responses={200: StockListOutput, **error_responses()},
        description="The catalogue of virtual stocks, by symbol, halted ones too. A stock's price follows a bonding "
        "curve on its supply (linear: basePrice + slope * supply): it rises as people buy and falls as they sell.",
        examples=[OpenApiExample("Catalogue", value={"stocks": [_THIS]}, response_only=True)],
    )
    def get(self, request):
        return Response(StockListOutput({"stocks": selectors.stocks_catalogue()}).data)


class StockDetailInput(InputSerializer):
    points = serializers.IntegerField(
        min_value=1, max_value=1000, default=200, help_text="At most this many trades in the history (1 to 1000)."
    )


class StockDetailApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="economy_stocks_retrieve",
        parameters=[SYMBOL, StockDetailInput],
        responses={200: StockDetailOutput, **error_responses(400, 404)},
        description="A stock with its curve, reserve, fee and price history. 404 STOCK_NOT_FOUND.",
        examples=[
            OpenApiExample(
                "THIS",
                value=_THIS
                | {
                    "curve": {"shape": "linear", "basePrice": 10.0, "slope": 0.01},
                    "reserve": 60.18,
                    "feeRate": 0.0,
                    "history": [
                        {"price": 10.0, "supply": 0.0, "recordedAt": "2026-04-30T09:00:00Z"},
                        {"price": 10.1, "supply": 10.0, "recordedAt": "2026-05-01T12:00:00Z"},
                        {"price": 10.06, "supply": 6.0, "recordedAt": "2026-05-01T12:05:00Z"},
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, symbol: str):
        query = StockDetailInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        stock = selectors.stock_detail(symbol=symbol, points=query.validated_data["points"])
        return Response(StockDetailOutput(stock).data)


class StockBuyInput(InputSerializer):
    symbol = serializers.CharField(max_length=32)
    shares = PlainDecimalField(required=False, help_text="Shares to buy (at most 2 decimals); or give credits.")
    credits = PlainDecimalField(
        required=False, help_text="A budget: buy as many hundredths of a share as it pays for; or give shares."
    )
    max_price = PlainDecimalField(
        required=False, min_value=0, help_text="Refuse (PRICE_CHANGED) if the average price per share is higher."
    )


class StockSellInput(InputSerializer):
    symbol = serializers.CharField(max_length=32)
    shares = PlainDecimalField(help_text="Shares to sell (at most 2 decimals), at most the holding.")
    min_proceeds = PlainDecimalField(
        required=False, min_value=0, help_text="Refuse (PRICE_CHANGED) if the sale would pay less."
    )


class StockQuoteInput(StockBuyInput):
    side = serializers.ChoiceField(choices=TradeSide.choices)
    min_proceeds = PlainDecimalField(required=False, min_value=0, help_text="A sale's minProceeds.")


_BUY_ERRORS = (
    "400 INVALID_TRADE_AMOUNT (not a positive number of hundredths of a share up to 1,000,000, or of cents; a "
    "budget too small for 0.01 of a share) or VALIDATION_ERROR (both or neither of shares and credits); "
    "404 STOCK_NOT_FOUND; 409 TRADING_HALTED, PRICE_CHANGED (details.averagePrice, maxPrice)"
)
_SELL_ERRORS = (
    "400 INVALID_TRADE_AMOUNT (also: a sale too small to pay a cent) or INSUFFICIENT_SHARES (more than the "
    "holding; details.held); 404 STOCK_NOT_FOUND; 409 TRADING_HALTED, PRICE_CHANGED (details.proceeds, "
    "minProceeds)"
)


class StockBuyApi(APIView):
    throttle_scope = {"POST": "stock_trades"}

    @extend_schema(
        operation_id="economy_stocks_buy",
        request=StockBuyInput,
        parameters=[IDEMPOTENCY_PARAMETER, DEVICE_ID_PARAMETER],
        responses={201: StockTradedOutput, **error_responses(400, 401, 403, 404, 409)},
        description="Buy shares of a stock, by number of shares or with a budget of credits; the price rises as the "
        f"supply grows. {ROUNDING} Errors: {_BUY_ERRORS}, IDEMPOTENCY_CONFLICT; 400 INSUFFICIENT_BALANCE; 403 "
        "ACCOUNT_SUSPENDED.",
        examples=[
            OpenApiExample("By shares", value={"symbol": "THIS", "shares": 10, "maxPrice": 10.1}, request_only=True),
            OpenApiExample("With a budget", value={"symbol": "THIS", "credits": 250}, request_only=True),
            OpenApiExample(
                "Bought",
                value={
                    "trade": _BOUGHT_TRADE,
                    "holding": {
                        "symbol": "THIS",
                        "shares": 10.0,
                        "averageCost": 10.05,
                        "currentValue": 100.5,
                        "unrealizedPnL": 0.0,
                    },
                    "newBalance": 899.5,
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request):
        data = StockBuyInput(data=request.data)
        data.is_valid(raise_exception=True)

        def run() -> Response:
            traded = services.stock_buy(user_id=request.user.pk, client=client_of(request), **data.validated_data)
            return Response(StockTradedOutput(traded).data, status=201)

        return idempotent(request, scope="stocks-buy", run=run)


class StockSellApi(APIView):
    throttle_scope = {"POST": "stock_trades"}

    @extend_schema(
        operation_id="economy_stocks_sell",
        request=StockSellInput,
        parameters=[IDEMPOTENCY_PARAMETER, DEVICE_ID_PARAMETER],
        responses={200: StockTradedOutput, **error_responses(400, 401, 403, 404, 409)},
        description=f"Sell shares back; the price falls as the supply shrinks. {ROUNDING} Errors: {_SELL_ERRORS}, "
        "BALANCE_LIMIT (the proceeds would lift the balance over the maximum), IDEMPOTENCY_CONFLICT; 403 "
        "ACCOUNT_SUSPENDED (a suspended account's holdings are frozen).",
        examples=[
            OpenApiExample("Sell", value={"symbol": "THIS", "shares": 4, "minProceeds": 40}, request_only=True),
            OpenApiExample(
                "Sold",
                value={
                    "trade": _SOLD_TRADE,
                    "holding": {
                        "symbol": "THIS",
                        "shares": 6.0,
                        "averageCost": 10.05,
                        "currentValue": 60.18,
                        "unrealizedPnL": -0.12,
                    },
                    "newBalance": 939.82,
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        data = StockSellInput(data=request.data)
        data.is_valid(raise_exception=True)

        def run() -> Response:
            traded = services.stock_sell(user_id=request.user.pk, client=client_of(request), **data.validated_data)
            return Response(StockTradedOutput(traded).data)

        return idempotent(request, scope="stocks-sell", run=run)


class StockQuoteApi(APIView):
    @extend_schema(
        operation_id="economy_stocks_quote",
        request=StockQuoteInput,
        responses={200: StockQuoteOutput, **error_responses(400, 401, 404, 409)},
        description="What POST /economy/buy or /economy/sell with the same body (and `side`) would do now; nothing "
        "is written. A trade placed next gets exactly these numbers unless someone traded the stock in between. "
        f"The same refusals except the ledger's (balance, balance cap, suspension): buy: {_BUY_ERRORS}; sell: "
        f"{_SELL_ERRORS}.",
        examples=[
            OpenApiExample("Buy 10", value={"symbol": "THIS", "side": "buy", "shares": 10}, request_only=True),
            OpenApiExample(
                "Quote",
                value={
                    "symbol": "THIS",
                    "side": "buy",
                    "shares": 10.0,
                    "credits": 100.5,
                    "fee": 0.0,
                    "feeRate": 0.0,
                    "averagePrice": 10.05,
                    "priceBefore": 10.0,
                    "priceAfter": 10.1,
                    "supplyAfter": 10.0,
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        data = StockQuoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(StockQuoteOutput(services.stock_quote(user_id=request.user.pk, **data.validated_data)).data)


class StockTradeListInput(page_input(default_limit=20, max_limit=100, name="StockTradePageInput")):
    symbol = serializers.CharField(required=False, default="", max_length=32, help_text="Only this stock's trades.")


class StockTradeListApi(APIView):
    @extend_schema(
        operation_id="economy_trades_me",
        parameters=[StockTradeListInput],
        responses={200: StockTradeListOutput, **error_responses(400, 401)},
        description="The caller's stock trades, newest first.",
        examples=[
            OpenApiExample(
                "Trades",
                value={"trades": [_SOLD_TRADE, _BOUGHT_TRADE], "total": 2, "limit": 20, "offset": 0},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        query = StockTradeListInput.from_query(request)
        trades, total = paginate(selectors.trades_for_user(user_id=request.user.pk, symbol=query["symbol"]), **query)
        return Response(
            StockTradeListOutput(
                {"trades": trades, "total": total, "limit": query["limit"], "offset": query["offset"]}
            ).data
        )
