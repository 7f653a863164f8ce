from django.urls import path

from . import api

urlpatterns = [
    path("leaderboard/pnl", api.PnlBoardApi.as_view(), name="leaderboard-pnl"),
    path("leaderboard/volume", api.VolumeBoardApi.as_view(), name="leaderboard-volume"),
    path("leaderboard/me", api.MyStandingApi.as_view(), name="leaderboard-me"),
]
