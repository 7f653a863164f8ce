from django.urls import path

from . import api

urlpatterns = [
    path("me", api.UserMeApi.as_view(), name="users-me"),
    path("<str:user_id>", api.UserDetailApi.as_view(), name="users-detail"),
]
