"""Economy endpoints (SPEC §5): thin views that parse, call a service or selector, and render."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from idempotency.http import IDEMPOTENCY_PARAMETER, idempotent
from thisthat.http import client_of
from thisthat.openapi import DEVICE_ID_PARAMETER, error_responses
from thisthat.pagination import page_input, paginate
from thisthat.serializers import InputSerializer

from . import selectors, services
from .models import LedgerKind
from .serializers import (
    CreditPackageListOutput,
    DailyRewardClaimOutput,
    DailyRewardHistoryOutput,
    DailyRewardStatusOutput,
    PurchaseCreatedOutput,
    PurchaseListOutput,
    ReferralsOutput,
    TransactionListOutput,
)

RewardHistoryInput = page_input(default_limit=20, max_limit=100, name="RewardHistoryInput")
PurchaseListInput = page_input(default_limit=20, max_limit=100, name="PurchaseListInput")
ReferralListInput = page_input(default_limit=100, max_limit=200, name="ReferralListInput")


class TransactionListInput(page_input(default_limit=50, max_limit=200, name="TransactionPageInput")):
    type = serializers.ChoiceField(choices=LedgerKind.choices, required=False, help_text="Only this kind of row.")


class DailyRewardApi(APIView):
    throttle_scope = {"POST": "daily_reward"}

    @extend_schema(
        operation_id="rewards_daily_status", responses={200: DailyRewardStatusOutput, **error_responses(401)}
    )
    def get(self, request):
        return Response(DailyRewardStatusOutput(services.daily_reward_state(user_id=request.user.pk)).data)

    @extend_schema(
        operation_id="rewards_daily_claim",
        request=None,
        parameters=[DEVICE_ID_PARAMETER],
        responses={201: DailyRewardClaimOutput, **error_responses(401, 403, 409)},
        description="409 DAILY_REWARD_CLAIMED (with `details.nextClaimAvailable`) when today's reward was "
        "claimed already; 409 BALANCE_LIMIT when it would lift the balance over the maximum; 403 "
        "ACCOUNT_SUSPENDED for a suspended account.",
    )
    def post(self, request):
        claim = services.daily_reward_claim(user_id=request.user.pk, client=client_of(request))
        body = {
            "reward": claim.reward,
            "new_balance": claim.new_balance,
            "next_claim_available": claim.state.next_claim_available,
            "streak": claim.state.streak,
        }
        return Response(DailyRewardClaimOutput(body).data, status=201)


class DailyRewardHistoryApi(APIView):
    @extend_schema(
        operation_id="rewards_history",
        parameters=[RewardHistoryInput],
        responses={200: DailyRewardHistoryOutput, **error_responses(400, 401)},
    )
    def get(self, request):
        page = RewardHistoryInput.from_query(request)
        rewards, total = paginate(selectors.daily_rewards_for_user(user_id=request.user.pk), **page)
        return Response(DailyRewardHistoryOutput({"rewards": rewards, "total": total, **page}).data)


class TransactionListApi(APIView):
    @extend_schema(
        operation_id="transactions_me",
        parameters=[TransactionListInput],
        responses={200: TransactionListOutput, **error_responses(400, 401)},
    )
    def get(self, request):
        query = TransactionListInput.from_query(request)
        rows = selectors.ledger_for_user(user_id=request.user.pk, kind=query.get("type"))
        transactions, total = paginate(rows, **query)
        body = {"transactions": transactions, "total": total, "limit": query["limit"], "offset": query["offset"]}
        return Response(TransactionListOutput(body).data)


class ReferralsMeApi(APIView):
    @extend_schema(
        operation_id="referrals_me",
        parameters=[ReferralListInput],
        responses={200: ReferralsOutput, **error_responses(400, 401)},
        description="`referralCount` counts everyone who joined with your code; `referrals` lists them newest "
        "first, one page at a time (`limit`, `offset`). Your bonus for a referral is `pending` until they place "
        "a first bet of at least the qualifying amount, then `paid` — or `withheld` when it does not qualify "
        "(for example, the two accounts share a device or an address).",
    )
    def get(self, request):
        page = ReferralListInput.from_query(request)
        referrals, count = paginate(selectors.referrals_for_user(user_id=request.user.pk), **page)
        totals = selectors.referral_totals(user_id=request.user.pk)
        body = {
            "referral_code": request.user.referral_code,
            "referral_count": count,
            "credits_earned": totals.credits_earned,
            "credits_pending": totals.credits_pending,
            "referrals": referrals,
        }
        return Response(ReferralsOutput(body).data)


class CreditPackageListApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="purchases_packages", responses={200: CreditPackageListOutput, **error_responses()})
    def get(self, request):
        return Response(CreditPackageListOutput({"packages": selectors.credit_packages_on_sale()}).data)


class PurchaseApi(APIView):
    class PurchaseCreateInput(InputSerializer):
        package_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)

    @extend_schema(
        operation_id="purchases_create",
        request=PurchaseCreateInput,
        parameters=[IDEMPOTENCY_PARAMETER, DEVICE_ID_PARAMETER],
        responses={201: PurchaseCreatedOutput, **error_responses(400, 401, 403, 409)},
        description="Buy an active credit package. An unknown or inactive `packageId` is 400 VALIDATION_ERROR; "
        "403 ACCOUNT_SUSPENDED for a suspended account; 409 BALANCE_LIMIT when the credits would lift the "
        "balance over the maximum; 409 IDEMPOTENCY_CONFLICT for a reused key with a different body; 429 "
        "RATE_LIMIT_EXCEEDED past the per-user purchase limit.",
    )
    def post(self, request):
        data = self.PurchaseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)

        def run() -> Response:
            outcome = services.purchase_create(
                user_id=request.user.pk, client=client_of(request), **data.validated_data
            )
            return Response(PurchaseCreatedOutput(outcome._asdict()).data, status=201)

        return idempotent(request, scope="purchases", run=run)


class PurchaseListApi(APIView):
    @extend_schema(
        operation_id="purchases_me",
        parameters=[PurchaseListInput],
        responses={200: PurchaseListOutput, **error_responses(400, 401)},
    )
    def get(self, request):
        page = PurchaseListInput.from_query(request)
        purchases, total = paginate(selectors.purchases_for_user(user_id=request.user.pk), **page)
        return Response(PurchaseListOutput({"purchases": purchases, "total": total, **page}).data)
