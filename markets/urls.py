from django.urls import path

from . import api

urlpatterns = [
    path("markets", api.MarketListApi.as_view(), name="markets-list"),
    path("markets/categories", api.MarketCategoriesApi.as_view(), name="markets-categories"),
    path("markets/category/<str:slug>", api.MarketCategoryListApi.as_view(), name="markets-by-category"),
    path("markets/random", api.MarketRandomApi.as_view(), name="markets-random"),
    path("markets/<str:market_id>", api.MarketDetailApi.as_view(), name="markets-detail"),
    path("markets/<str:market_id>/history", api.MarketOddsHistoryApi.as_view(), name="markets-odds-history"),
]
