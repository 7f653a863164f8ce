"""Staff monitoring of the anti-abuse review (the same counters as the flag queue's overview)."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from thisthat.money import CREDITS
from thisthat.openapi import error_responses

from .selectors import abuse_metrics


class FlagCountOutput(serializers.Serializer):
    rule = serializers.CharField()
    severity = serializers.CharField()
    total = serializers.IntegerField(help_text="Flags raised so far.")
    open = serializers.IntegerField(help_text="Of which still open.")


class WithheldCountOutput(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class AbuseMetricsOutput(serializers.Serializer):
    flags = FlagCountOutput(many=True)
    suspended_accounts = serializers.IntegerField(help_text="Accounts suspended now.")
    suspensions = serializers.IntegerField(help_text="Suspensions so far, automatic ones included.")
    automatic_suspensions = serializers.IntegerField()
    reinstatements = serializers.IntegerField()
    clawed_back_credits = serializers.DecimalField(**CREDITS)
    referrals_withheld = WithheldCountOutput(many=True, help_text="Referral bonuses withheld, by reason.")


class AbuseMetricsApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(operation_id="monitoring_abuse", responses={200: AbuseMetricsOutput, **error_responses(401, 403)})
    def get(self, request):
        return Response(AbuseMetricsOutput(asdict(abuse_metrics())).data)
