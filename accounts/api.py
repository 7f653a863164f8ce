from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from thisthat.http import client_of
from thisthat.openapi import DEVICE_ID_PARAMETER, MessageOutput, error_responses
from thisthat.serializers import InputSerializer

from . import services
from .authentication import user_row
from .models import SessionEndReason
from .selectors import profile_get, sessions_for_user, user_get
from .serializers import (
    AuthOutput,
    OwnPublicUserOutput,
    PublicUserOutput,
    TokenPairOutput,
    UserProfileOutput,
    password_field,
    username_field,
)
from .tokens import (
    FAMILY_CLAIM,
    session_end,
    token_pair_issue,
    token_pair_rotate,
    token_revoke,
    tokens_revoke_all,
)


def _auth_body(user, tokens) -> dict:
    profile = profile_get(user_id=user.pk)  # read anew: with the ranks, and any change just committed
    body = {"user": profile, "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}
    return AuthOutput(body).data


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "register"

    class RegisterInput(InputSerializer):
        username = username_field()
        email = serializers.EmailField(max_length=254)
        password = password_field()
        referral_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="auth_register",
        request=RegisterInput,
        parameters=[DEVICE_ID_PARAMETER],
        responses={201: AuthOutput, **error_responses(400, 409, 503)},
        description="With a `referralCode`, the new account gets the referral bonus at once; the referrer's "
        "is paid when the new account places a first bet of at least the qualifying amount, unless the two "
        "share a device or an address or the new account is flagged. A suspended account's code is refused "
        "(400 INVALID_REFERRAL_CODE).",
    )
    def post(self, request):
        data = self.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(client=client_of(request), **data.validated_data)
        return Response(_auth_body(user, token_pair_issue(user=user, request=request)), status=201)


class LoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "login"

    class LoginInput(InputSerializer):
        email = serializers.CharField(max_length=254)
        password = password_field()

    @extend_schema(
        operation_id="auth_login",
        request=LoginInput,
        parameters=[DEVICE_ID_PARAMETER],
        responses={200: AuthOutput, **error_responses(400, 401, 503)},
    )
    def post(self, request):
        data = self.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(client=client_of(request), **data.validated_data)
        return Response(_auth_body(user, token_pair_issue(user=user, request=request)))


class RefreshInput(InputSerializer):
    refresh_token = serializers.CharField(max_length=2048)


class RefreshApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_refresh",
        description=(
            "Rotates the refresh token within its sign-in. A token presented again within "
            "`JWT_REFRESH_GRACE_SECONDS` (30) of its rotation returns the same new pair (several tabs, "
            "a retried request). Presented later, it revokes every token of its sign-in: 401 "
            "TOKEN_INVALID with `details.reason` `refresh_token_reused` (and `session_ended` for any "
            "token of an ended sign-in)."
        ),
        request=RefreshInput,
        responses={200: TokenPairOutput, **error_responses(400, 401, 503)},
    )
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = token_pair_rotate(refresh_token=data.validated_data["refresh_token"])
        return Response(TokenPairOutput(tokens).data)


class LogoutApi(APIView):
    # The refresh token proves possession; a Bearer token is not needed (and not read: it may be expired).
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_logout",
        description="Ends the sign-in of this refresh token: its refresh and access tokens stop working at once.",
        request=RefreshInput,
        responses={200: MessageOutput, **error_responses(400, 401, 503)},
    )
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        token_revoke(refresh_token=data.validated_data["refresh_token"])
        return Response({"message": "Logged out successfully"})


class LogoutAllApi(APIView):
    @extend_schema(
        operation_id="auth_logout_all",
        description="Ends every sign-in of the caller, this one included.",
        request=None,
        responses={200: MessageOutput, **error_responses(401, 503)},
    )
    def post(self, request):
        tokens_revoke_all(user=request.user, reason=SessionEndReason.LOGOUT_ALL)
        return Response({"message": "Logged out of every session"})


class SessionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(help_text="Updated at most once a minute.")
    user_agent = serializers.CharField()
    ip_address = serializers.IPAddressField(allow_null=True)
    current = serializers.SerializerMethodField(help_text="The sign-in of the token making this request.")

    def get_current(self, session) -> bool:
        return str(session.pk) == self.context["current_session_id"]


class SessionListApi(APIView):
    class SessionListOutput(serializers.Serializer):
        sessions = SessionOutput(many=True)

    @extend_schema(
        operation_id="auth_sessions",
        description="The caller's live sign-ins (one per login, registration or X sign-in), most recently used first.",
        responses={200: SessionListOutput, **error_responses(401, 503)},
    )
    def get(self, request):
        context = {"current_session_id": str(request.auth[FAMILY_CLAIM])}
        return Response(
            self.SessionListOutput({"sessions": sessions_for_user(user=request.user)}, context=context).data
        )


class SessionDetailApi(APIView):
    @extend_schema(
        operation_id="auth_sessions_end",
        description="Ends one of the caller's sign-ins: its refresh and access tokens stop working at once. "
        "Someone else's or an ended session is 404 SESSION_NOT_FOUND.",
        parameters=[OpenApiParameter("session_id", str, OpenApiParameter.PATH, description="Session UUID.")],
        responses={204: None, **error_responses(401, 404, 503)},
    )
    def delete(self, request, session_id: str):
        session_end(user=request.user, session_id=session_id)
        return Response(status=204)


class MeApi(APIView):
    @extend_schema(operation_id="users_me", responses={200: UserProfileOutput, **error_responses(401)})
    def get(self, request):
        return Response(UserProfileOutput(user_row(request.user)).data)


class AuthMeApi(MeApi):
    @extend_schema(operation_id="auth_me", responses={200: UserProfileOutput, **error_responses(401)})
    def get(self, request):
        return super().get(request)


class UserMeApi(MeApi):
    class ProfileUpdateInput(InputSerializer):
        username = username_field(required=False)

    class ProfileUpdateOutput(serializers.Serializer):
        user = UserProfileOutput()

    @extend_schema(
        operation_id="users_me_update",
        request=ProfileUpdateInput,
        responses={200: ProfileUpdateOutput, **error_responses(400, 401, 409)},
    )
    def patch(self, request):
        data = self.ProfileUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return Response(self.ProfileUpdateOutput({"user": profile_get(user_id=user.pk)}).data)


class UserDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="users_detail",
        responses={
            200: OpenApiResponse(PublicUserOutput, description="`creditBalance` is included on your own profile."),
            **error_responses(401, 404),
        },
    )
    def get(self, request, user_id: str):
        user = user_get(user_id=user_id)
        own = request.user.is_authenticated and request.user.pk == user.pk
        return Response((OwnPublicUserOutput if own else PublicUserOutput)(user).data)


class PasswordChangeApi(APIView):
    class PasswordChangeInput(InputSerializer):
        current_password = password_field()
        new_password = password_field()

    class PasswordChangeOutput(TokenPairOutput):
        message = serializers.CharField()

    @extend_schema(
        operation_id="auth_password_change",
        request=PasswordChangeInput,
        responses={200: PasswordChangeOutput, **error_responses(400, 401, 503)},
    )
    def post(self, request):
        data = self.PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.password_change(user=request.user, request=request, **data.validated_data)
        body = {"message": "Password changed; sign in again on other devices.", **asdict(tokens)}
        return Response(self.PasswordChangeOutput(body).data)


class UserPasswordAddApi(APIView):
    class PasswordAddInput(InputSerializer):
        email = serializers.EmailField(max_length=254, required=False)
        password = password_field()

    @extend_schema(
        operation_id="users_me_password_add",
        description="Give an account made with X a password (and the email to sign in with, required when it has "
        "none), so it can also log in with `POST /auth/login`. Returns a new token pair: earlier tokens stop "
        "working. 409 PASSWORD_ALREADY_SET when it has one (use `/auth/password/change`), 409 EMAIL_TAKEN.",
        request=PasswordAddInput,
        responses={200: AuthOutput, **error_responses(400, 401, 409)},
    )
    def post(self, request):
        data = self.PasswordAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.password_add(user=request.user, request=request, **data.validated_data)
        return Response(_auth_body(request.user, tokens))  # read anew there, with the new password


class PasswordResetApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "password_reset"

    class PasswordResetInput(InputSerializer):
        email = serializers.EmailField(max_length=254)

    @extend_schema(
        operation_id="auth_password_reset",
        request=PasswordResetInput,
        responses={202: MessageOutput, **error_responses(400, 503)},
    )
    def post(self, request):
        data = self.PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(**data.validated_data)
        return Response({"message": "If that email has an account, a reset link is on its way."}, status=202)


class PasswordResetConfirmApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "password_reset"

    class PasswordResetConfirmInput(InputSerializer):
        uid = serializers.CharField(max_length=64)
        token = serializers.CharField(max_length=128)
        new_password = password_field()

    @extend_schema(
        operation_id="auth_password_reset_confirm",
        request=PasswordResetConfirmInput,
        responses={200: MessageOutput, **error_responses(400, 503)},
    )
    def post(self, request):
        data = self.PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response({"message": "Password has been reset; sign in with the new password."})
