"""Sign in with X: the two URLs a browser follows (start, callback), which answer with redirects, and
the JSON endpoints (exchange, link, unlink)."""

from django.http import HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from thisthat.http import client_of
from thisthat.openapi import DEVICE_ID_PARAMETER, ErrorEnvelope, error_responses
from thisthat.serializers import InputSerializer

from . import x_oauth, x_services
from .errors import InvalidRedirect, XNotConfigured
from .selectors import profile_get
from .serializers import AuthOutput, UserProfileOutput
from .tokens import token_pair_issue

_NOT_CONFIGURED = OpenApiResponse(ErrorEnvelope, description="X_NOT_CONFIGURED: no X_CLIENT_ID on this server.")
# Marks the browser that starts a sign-in, so only that browser can finish it (x_services). Sent only
# to /auth/x and /auth/x/callback; Lax still sends it on the top-level GET from X back to us.
BROWSER_COOKIE = "thisthat_x_browser"
BROWSER_COOKIE_PATH = "/api/v1/auth/x"


class XUserOutput(serializers.Serializer):
    user = UserProfileOutput()


def _redirect(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)  # these URLs carry one-time values
    return response


def _path_or_root(raw: str | None) -> str:
    try:
        return x_services.redirect_path_clean(raw)
    except InvalidRedirect:
        return "/"


class _BrowserNavigation(APIView):
    """A browser, not a script, follows these URLs: every refusal (including the rate limit and a
    cache outage) is a redirect to the frontend with `error=<CODE>`, the code the JSON envelope would
    carry, plus `retryAfter` when there is one. Only a server without X configured answers 503
    X_NOT_CONFIGURED itself: it has no flow to send anyone back from."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "x_login"
    error_path = "/"

    def initial(self, request, *args, **kwargs):
        x_oauth.ensure_configured()  # before the rate limit: there is nothing to count
        self.error_path = self.landing_path(request)
        super().initial(request, *args, **kwargs)

    def landing_path(self, request) -> str:
        """Where a refusal sends the browser before the flow's own redirect is known."""
        return "/"

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, XNotConfigured):
            return response
        params = {"error": response.data["code"]}
        if retry_after := response.data["details"].get("retryAfter"):
            params["retryAfter"] = str(retry_after)
        return _redirect(x_services.frontend_url(self.error_path, **params))


class XStartApi(_BrowserNavigation):
    def landing_path(self, request) -> str:
        return _path_or_root(request.query_params.get("redirect"))

    @extend_schema(
        operation_id="auth_x_start",
        description=(
            "Open the browser here to sign in (or sign up) with X. Redirects to X's consent page "
            "(OAuth 2.0 authorization code with PKCE S256, scopes `tweet.read users.read offline.access`); "
            "X sends the browser back to `GET /auth/x/callback`. A refusal redirects to "
            "`FRONTEND_URL + redirect` (or `/`) with `error=<CODE>`: INVALID_REDIRECT, INVALID_REFERRAL_CODE, "
            "RATE_LIMIT_EXCEEDED (with `retryAfter`), SERVICE_UNAVAILABLE."
        ),
        parameters=[
            OpenApiParameter(
                "redirect",
                OpenApiTypes.STR,
                description="Path on the frontend to land on afterwards, e.g. `/markets?tab=hot` (default `/`). "
                "Anything else (a scheme, a host, `//`, a backslash) is refused.",
            ),
            OpenApiParameter(
                "referralCode", OpenApiTypes.STR, description="A referral code for a new account (as in register)."
            ),
        ],
        responses={
            302: OpenApiResponse(description="To X's consent page, or to the frontend with `error`."),
            503: _NOT_CONFIGURED,
        },
    )
    def get(self, request):
        browser_id = request.COOKIES.get(BROWSER_COOKIE)
        if not x_services.browser_id_valid(browser_id):
            browser_id = x_services.browser_id_new()
        url = x_services.x_flow_start(
            redirect=request.query_params.get("redirect"),
            browser_id=browser_id,
            referral_code=request.query_params.get("referralCode", ""),
        )
        response = _redirect(url)
        # Kept (and renewed) across flows, so two tabs of one browser can each sign in.
        response.set_cookie(
            BROWSER_COOKIE,
            browser_id,
            max_age=x_services.FLOW_TTL_SECONDS,
            path=BROWSER_COOKIE_PATH,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
        return response


class XCallbackApi(_BrowserNavigation):
    @extend_schema(
        operation_id="auth_x_callback",
        description=(
            "X sends the browser here (`X_REDIRECT_URI`). Finds or creates the account of this X user and "
            "redirects to `FRONTEND_URL + redirect` with `code=<one-time exchange code>` (60 s, single use; "
            "`POST /auth/x/exchange` turns it into tokens), or with `linkCode=<one-time code>` at the end of a "
            "link flow (`POST /auth/x/link/confirm`). A refusal redirects there with `error=<CODE>`: "
            "X_STATE_INVALID (unknown, expired or reused state, or a sign-in started in another browser; to `/`), "
            "X_ACCESS_DENIED, X_EXCHANGE_FAILED, X_UNAVAILABLE, ACCOUNT_DISABLED, X_ACCOUNT_TAKEN, "
            "X_ALREADY_LINKED, INVALID_REFERRAL_CODE, RATE_LIMIT_EXCEEDED, SERVICE_UNAVAILABLE."
        ),
        parameters=[
            OpenApiParameter(name, OpenApiTypes.STR, description="From X.")
            for name in ("code", "state", "error", "error_description")
        ],
        responses={
            302: OpenApiResponse(description="To the frontend, with `code`, `linkCode` or `error`."),
            503: _NOT_CONFIGURED,
        },
    )
    def get(self, request):
        flow = x_services.x_flow_take(
            state=request.query_params.get("state"), browser_id=request.COOKIES.get(BROWSER_COOKIE)
        )
        self.error_path = flow.redirect
        params = x_services.x_flow_complete(
            flow=flow,
            code=request.query_params.get("code"),
            error=request.query_params.get("error"),
            client=client_of(request),
        )
        return _redirect(x_services.frontend_url(flow.redirect, **params))


class XExchangeApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "x_login"

    class XExchangeInput(InputSerializer):
        code = serializers.CharField(max_length=128)

    class XExchangeOutput(AuthOutput):
        created = serializers.BooleanField(help_text="True when this sign-in created the account.")

    def initial(self, request, *args, **kwargs):
        x_oauth.ensure_configured()
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="auth_x_exchange",
        description="Trade the one-time code from the callback redirect for our tokens, as a login would. "
        "400 X_CODE_INVALID: unknown, expired (60 s) or already used; 403 ACCOUNT_DISABLED.",
        request=XExchangeInput,
        parameters=[DEVICE_ID_PARAMETER],
        responses={200: XExchangeOutput, **error_responses(400, 403, 503)},
    )
    def post(self, request):
        data = self.XExchangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        user, created = x_services.x_exchange(code=data.validated_data["code"], client=client_of(request))
        tokens = token_pair_issue(user=user, request=request)
        profile = profile_get(user_id=user.pk)  # with the ranks, which only the profile query reads
        body = {"user": profile, "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}
        return Response(self.XExchangeOutput({**body, "created": created}).data)


class XLinkApi(APIView):
    throttle_scope = {"POST": "x_login"}

    class XLinkInput(InputSerializer):
        redirect = serializers.CharField(max_length=512, required=False, default="/")

    class XLinkOutput(serializers.Serializer):
        authorize_url = serializers.URLField(help_text="Send the browser here; it comes back with `linkCode`.")

    @extend_schema(
        operation_id="auth_x_link",
        description="Start linking X to the caller's account: the same flow as `GET /auth/x`, bound to the caller. "
        "The callback redirects to `FRONTEND_URL + redirect` with `linkCode` (finish with "
        "`POST /auth/x/link/confirm`), or with `error=X_ACCOUNT_TAKEN` (that X account belongs to someone else). "
        "409 X_ALREADY_LINKED when the caller has an X account already (unlink it first).",
        request=XLinkInput,
        responses={200: XLinkOutput, **error_responses(400, 401, 409, 503)},
    )
    def post(self, request):
        data = self.XLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        url = x_services.x_flow_start(redirect=data.validated_data["redirect"], link_user=request.user)
        return Response(self.XLinkOutput({"authorize_url": url}).data)

    @extend_schema(
        operation_id="auth_x_unlink",
        description="Remove the linked X account. 409 LAST_SIGN_IN_METHOD while the account has no email and "
        "password to sign in with (add them with `POST /users/me/password`); 404 X_NOT_LINKED.",
        request=None,
        responses={200: XUserOutput, **error_responses(401, 404, 409)},
    )
    def delete(self, request):
        user = x_services.x_account_unlink(user=request.user)
        return Response(XUserOutput({"user": profile_get(user_id=user.pk)}).data)


class XLinkConfirmApi(APIView):
    throttle_scope = "x_login"

    class XLinkConfirmInput(InputSerializer):
        code = serializers.CharField(max_length=128)

    def initial(self, request, *args, **kwargs):
        x_oauth.ensure_configured()
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="auth_x_link_confirm",
        description="Finish a link flow with the `linkCode` from the callback redirect. Only the user who started "
        "it can (so a link started by someone else and finished in your browser links nothing). 400 X_CODE_INVALID "
        "(unknown, expired, used, or another user's), 409 X_ACCOUNT_TAKEN or X_ALREADY_LINKED.",
        request=XLinkConfirmInput,
        responses={200: XUserOutput, **error_responses(400, 401, 403, 409, 503)},
    )
    def post(self, request):
        data = self.XLinkConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = x_services.x_link_confirm(user=request.user, code=data.validated_data["code"])
        return Response(XUserOutput({"user": profile_get(user_id=user.pk)}).data)
