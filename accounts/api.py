from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from thisthat.http import client_of
from thisthat.openapi import DEVICE_ID_PARAMETER, MessageOutput, error_responses
from thisthat.serializers import InputSerializer

from . import services
from .selectors import user_get
from .serializers import (
    AuthOutput,
    OwnPublicUserOutput,
    PublicUserOutput,
    TokenPairOutput,
    UserProfileOutput,
    password_field,
    username_field,
)
from .tokens import token_pair_issue, token_pair_rotate, token_revoke


def _auth_body(user, tokens) -> dict:
    return AuthOutput({"user": user, "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}).data


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
        return Response(_auth_body(user, token_pair_issue(user=user)), status=201)


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
        return Response(_auth_body(user, token_pair_issue(user=user)))


class RefreshInput(InputSerializer):
    refresh_token = serializers.CharField(max_length=2048)


class RefreshApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_refresh", request=RefreshInput, responses={200: TokenPairOutput, **error_responses(400, 401)}
    )
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = token_pair_rotate(refresh_token=data.validated_data["refresh_token"])
        return Response(TokenPairOutput(tokens).data)


class LogoutApi(APIView):
    @extend_schema(
        operation_id="auth_logout", request=RefreshInput, responses={200: MessageOutput, **error_responses(400, 401)}
    )
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        token_revoke(user=request.user, refresh_token=data.validated_data["refresh_token"])
        return Response({"message": "Logged out successfully"})


class MeApi(APIView):
    @extend_schema(operation_id="users_me", responses={200: UserProfileOutput, **error_responses(401)})
    def get(self, request):
        return Response(UserProfileOutput(request.user).data)


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
        return Response(self.ProfileUpdateOutput({"user": user}).data)


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
        responses={200: PasswordChangeOutput, **error_responses(400, 401)},
    )
    def post(self, request):
        data = self.PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.password_change(user=request.user, **data.validated_data)
        body = {"message": "Password changed; sign in again on other devices.", **asdict(tokens)}
        return Response(self.PasswordChangeOutput(body).data)


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
