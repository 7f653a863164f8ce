from rest_framework import serializers

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


class PublicUserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    total_volume = serializers.DecimalField(**CREDITS)
    # Spelled out: an automatic camelizer would write "overallPnl" / "rankByPnl".
    overallPnL = serializers.DecimalField(source="overall_pnl", **CREDITS)  # noqa: N815
    rankByPnL = serializers.IntegerField(source="rank_by_pnl", allow_null=True)  # noqa: N815
    rank_by_volume = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class OwnPublicUserOutput(PublicUserOutput):
    credit_balance = serializers.DecimalField(**CREDITS)
    credit_debt = serializers.DecimalField(
        **CREDITS,
        help_text="Owed after a corrected resolution took back more than the balance held; later credits pay it "
        "off first. 0 almost always; never above 0 together with creditBalance.",
    )


class UserProfileOutput(OwnPublicUserOutput):
    email = serializers.EmailField()
    referral_code = serializers.CharField()
    daily_streak = serializers.IntegerField(source="current_daily_streak")
    is_staff = serializers.BooleanField()
    last_daily_reward_at = serializers.DateTimeField(allow_null=True)


class TokenPairOutput(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class AuthOutput(TokenPairOutput):
    user = UserProfileOutput()
