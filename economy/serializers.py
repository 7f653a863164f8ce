"""Response shapes of the economy endpoints (SPEC §5). Credits render as JSON numbers."""

from rest_framework import serializers

from thisthat.money import CREDITS
from thisthat.pagination import PageOutput

from .models import LedgerKind, PurchaseStatus, ReferralStatus
from .selectors import ledger_entry_description


def credits_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**CREDITS, **kwargs)


class DailyRewardStatusOutput(serializers.Serializer):
    can_claim = serializers.BooleanField()
    next_claim_available = serializers.DateTimeField(help_text="Now when claimable, else the next UTC midnight.")
    streak = serializers.IntegerField(help_text="Current streak; 0 once a day was missed.")
    next_amount = credits_field(help_text="What the next claim pays.")


class DailyRewardOutput(serializers.Serializer):
    id = serializers.UUIDField()
    credits_awarded = credits_field()
    streak_day = serializers.IntegerField()
    claimed_at = serializers.DateTimeField()


class DailyRewardClaimOutput(serializers.Serializer):
    reward = DailyRewardOutput()
    new_balance = credits_field()
    next_claim_available = serializers.DateTimeField()
    streak = serializers.IntegerField()


class DailyRewardHistoryOutput(PageOutput):
    rewards = DailyRewardOutput(many=True)


class LedgerEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    amount = credits_field(help_text="Signed: credits in are positive, credits out negative.")
    transaction_type = serializers.ChoiceField(source="kind", choices=LedgerKind.choices)
    reference_id = serializers.UUIDField(allow_null=True)
    balance_after = credits_field()
    debt_after = credits_field(
        help_text="Credit debt after this row (0 unless a corrected resolution took back more than the balance)."
    )
    description = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_description(self, entry) -> str:
        return ledger_entry_description(entry)


class TransactionListOutput(PageOutput):
    transactions = LedgerEntryOutput(many=True)


class ReferredUserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()


class ReferralOutput(serializers.Serializer):
    user = ReferredUserOutput(source="referred")
    joined_at = serializers.DateTimeField(source="referred.created_at")
    bonus = credits_field(help_text="What you were paid for this referral (0 until it is paid, or when withheld).")
    bonus_status = serializers.ChoiceField(
        source="status",
        choices=ReferralStatus.choices,
        help_text="pending: awaiting their first qualifying bet; paid; withheld: it did not qualify; "
        "clawed_back: paid, then taken back after a review.",
    )


class ReferralsOutput(serializers.Serializer):
    referral_code = serializers.CharField()
    referral_count = serializers.IntegerField()
    credits_earned = credits_field(help_text="Referral bonuses paid to you.")
    credits_pending = credits_field(help_text="What your referrals awaiting their first qualifying bet would pay.")
    referrals = ReferralOutput(many=True)


class CreditPackageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    credits = credits_field()
    price_usd = serializers.DecimalField(max_digits=10, decimal_places=2)


class CreditPackageListOutput(serializers.Serializer):
    packages = CreditPackageOutput(many=True)


class PurchaseOutput(serializers.Serializer):
    id = serializers.UUIDField()
    package_id = serializers.IntegerField()
    credits = credits_field()
    price_usd = serializers.DecimalField(max_digits=10, decimal_places=2)
    provider = serializers.CharField()
    status = serializers.ChoiceField(choices=PurchaseStatus.choices)
    created_at = serializers.DateTimeField()


class PurchaseCreatedOutput(serializers.Serializer):
    purchase = PurchaseOutput()
    new_balance = credits_field()


class PurchaseListOutput(PageOutput):
    purchases = PurchaseOutput(many=True)
