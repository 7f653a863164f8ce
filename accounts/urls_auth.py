from django.urls import path

from . import api

urlpatterns = [
    path("register", api.RegisterApi.as_view(), name="auth-register"),
    path("login", api.LoginApi.as_view(), name="auth-login"),
    path("refresh", api.RefreshApi.as_view(), name="auth-refresh"),
    path("logout", api.LogoutApi.as_view(), name="auth-logout"),
    path("logout/all", api.LogoutAllApi.as_view(), name="auth-logout-all"),
    path("sessions", api.SessionListApi.as_view(), name="auth-sessions"),
    path("sessions/<str:session_id>", api.SessionDetailApi.as_view(), name="auth-sessions-detail"),
    path("me", api.AuthMeApi.as_view(), name="auth-me"),
    path("password/change", api.PasswordChangeApi.as_view(), name="auth-password-change"),
    path("password/reset", api.PasswordResetApi.as_view(), name="auth-password-reset"),
    path("password/reset/confirm", api.PasswordResetConfirmApi.as_view(), name="auth-password-reset-confirm"),
]
