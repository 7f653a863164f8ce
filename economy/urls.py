from django.urls import path

from . import api

urlpatterns = [
    path("rewards/daily", api.DailyRewardApi.as_view(), name="rewards-daily"),
    path("rewards/history", api.DailyRewardHistoryApi.as_view(), name="rewards-history"),
    path("referrals/me", api.ReferralsMeApi.as_view(), name="referrals-me"),
    path("purchases", api.PurchaseApi.as_view(), name="purchases"),
    path("purchases/packages", api.CreditPackageListApi.as_view(), name="purchases-packages"),
    path("purchases/me", api.PurchaseListApi.as_view(), name="purchases-me"),
    path("transactions/me", api.TransactionListApi.as_view(), name="transactions-me"),
]
