from django.urls import path

from . import api

# Under /economy/, where the product's API has always listed them.
urlpatterns = [
    path("economy/stocks", api.StockListApi.as_view(), name="economy-stocks"),
    path("economy/stocks/<str:symbol>", api.StockDetailApi.as_view(), name="economy-stocks-detail"),
    path("economy/buy", api.StockBuyApi.as_view(), name="economy-buy"),
    path("economy/sell", api.StockSellApi.as_view(), name="economy-sell"),
    path("economy/quote", api.StockQuoteApi.as_view(), name="economy-quote"),
    path("economy/trades/me", api.StockTradeListApi.as_view(), name="economy-trades-me"),
]
