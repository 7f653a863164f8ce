from django.urls import path

from . import api, x_api

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
    path("x", x_api.XStartApi.as_view(), name="auth-x"),
    path("x/callback", x_api.XCallbackApi.as_view(), name="auth-x-callback"),
    path("x/exchange", x_api.XExchangeApi.as_view(), name="auth-x-exchange"),
    path("x/link", x_api.XLinkApi.as_view(), name="auth-x-link"),
    path("x/link/confirm", x_api.XLinkConfirmApi.as_view(), name="auth-x-link-confirm"),
]
