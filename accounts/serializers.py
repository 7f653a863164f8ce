from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from economy.selectors import credit_expiry_for
from thisthat.money import CREDITS

from .models import USERNAME_PATTERN

_USERNAME_HELP = "3 to 30 letters, digits or underscores."


def username_field(**kwargs) -> serializers.RegexField:
    return serializers.RegexField(
        USERNAME_PATTERN,
        max_length=30,
        help_text=_USERNAME_HELP,
        error_messages={"invalid": f"Username must be {_USERNAME_HELP}"},
        **kwargs,
    )


def password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=128, trim_whitespace=False, write_only=True, **kwargs)


class XAccountOutput(serializers.Serializer):
    username = serializers.CharField(help_text="The X handle, without the @.")
    name = serializers.CharField()
    avatar_url = serializers.CharField(help_text="The X profile picture (https), or empty.")


class PublicUserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    total_volume = serializers.DecimalField(**CREDITS)
    # Spelled out: an automatic camelizer would write "overallPnl" / "rankByPnl".
    overallPnL = serializers.DecimalField(source="overall_pnl", **CREDITS)  # noqa: N815
    rankByPnL = serializers.IntegerField(source="rank_by_pnl", allow_null=True)  # noqa: N815
    rank_by_volume = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    x_account = XAccountOutput(allow_null=True, help_text="The linked X account, or null.")


class OwnPublicUserOutput(PublicUserOutput):
    credit_balance = serializers.DecimalField(**CREDITS)
    credit_debt = serializers.DecimalField(
        **CREDITS,
        help_text="Owed after a corrected resolution took back more than the balance held; later credits pay it "
        "off first. 0 almost always; never above 0 together with creditBalance.",
    )


class CreditExpiryOutput(serializers.Serializer):
    amount = serializers.DecimalField(**CREDITS, help_text="Credits above the starting amount that would expire.")
    expires_at = serializers.DateTimeField(help_text="When, if the account stays inactive until then.")


class UserProfileOutput(OwnPublicUserOutput):
    email = serializers.EmailField(allow_null=True, help_text="Null for an account made with X until one is added.")
    has_password = serializers.BooleanField(
        source="has_usable_password", help_text="False for an account made with X until it adds a password."
    )
    referral_code = serializers.CharField()
    daily_streak = serializers.IntegerField(source="current_daily_streak")
    is_staff = serializers.BooleanField()
    is_suspended = serializers.BooleanField(
        help_text="A suspended account can sign in and read, but not bet, cash out, claim, buy or refer."
    )
    last_daily_reward_at = serializers.DateTimeField(allow_null=True)
    credit_expiry = serializers.SerializerMethodField(
        help_text="With the inactivity expiry on: the credits that would expire and when, unless the account "
        "logs in, bets, cashes out, claims or buys before then; else null."
    )

    @extend_schema_field(CreditExpiryOutput(allow_null=True))
    def get_credit_expiry(self, user) -> dict | None:
        expiry = credit_expiry_for(user_id=user.pk)
        return None if expiry is None else CreditExpiryOutput(expiry).data


class TokenPairOutput(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class AuthOutput(TokenPairOutput):
    user = UserProfileOutput()
