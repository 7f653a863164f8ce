from django.urls import path

from . import api

urlpatterns = [
    path("bets", api.BetPlaceApi.as_view(), name="bets-place"),
    path("bets/me", api.BetListApi.as_view(), name="bets-me"),
    path("bets/quote", api.BetQuoteApi.as_view(), name="bets-quote"),
    path("bets/<str:bet_id>", api.BetDetailApi.as_view(), name="bets-detail"),
    path("bets/<str:bet_id>/sell", api.BetSellApi.as_view(), name="bets-sell"),
    path("economy/portfolio", api.PortfolioApi.as_view(), name="economy-portfolio"),
]
