from django.urls import path

from . import api

urlpatterns = [
    path("me", api.UserMeApi.as_view(), name="users-me"),
    path("me/password", api.UserPasswordAddApi.as_view(), name="users-me-password"),
    path("<str:user_id>", api.UserDetailApi.as_view(), name="users-detail"),
]
