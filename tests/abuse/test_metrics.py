"""The anti-abuse metrics (issue 16) for staff: flags by rule and severity, suspensions, clawed-back
credits and withheld referral bonuses — GET /api/v1/monitoring/abuse, counted by one selector
(abuse.selectors.abuse_metrics) that an exporter can read as well."""

from decimal import Decimal

import pytest
from django.utils import timezone

from abuse.models import Flag, FlagStatus
from abuse.rules import Finding, Rule, Severity
from abuse.selectors import abuse_metrics
from abuse.services import account_reinstate, account_suspend, flag_claw_back, flags_raise
from economy.models import Referral, ReferralStatus
from tests.factories import UserFactory
from tests.helpers.assertions import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/monitoring/abuse"


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def test_an_empty_review_has_zero_everywhere(client_for, staff):
    assert client_for(staff).get(URL).json() == {
        "flags": [],
        "suspendedAccounts": 0,
        "suspensions": 0,
        "automaticSuspensions": 0,
        "reinstatements": 0,
        "clawedBackCredits": 0,
        "referralsWithheld": [],
    }


def test_the_counters_follow_the_review(client_for, staff):
    referrer = UserFactory()
    farmed = [UserFactory(referral_code=referrer.referral_code) for _ in range(3)]
    cluster = Finding(Rule.REFERRAL_CLUSTER, Severity.HIGH, "device:farm", frozenset(user.pk for user in farmed))
    crowd = Finding(Rule.SIGNUP_VELOCITY_ADDRESS, Severity.LOW, "address:198.51.100.1", frozenset({referrer.pk}))
    (cluster_flag, crowd_flag) = flags_raise([cluster, crowd])  # the cluster suspends its 3 accounts
    Flag.objects.filter(pk=crowd_flag.pk).update(status=FlagStatus.DISMISSED)
    account_reinstate(user_id=farmed[0].pk, reason="appeal", staff_id=staff.pk)
    account_suspend(user_id=referrer.pk, reason="manual", staff_id=staff.pk)
    flag_claw_back(flag_id=cluster_flag.pk, staff_id=staff.pk, reason="farm", kinds=["referral_bonus"])
    Referral.objects.filter(pk=farmed[1].pk).update(
        status=ReferralStatus.WITHHELD, reason="shared_device", decided_at=timezone.now()
    )

    body = client_for(staff).get(URL).json()

    assert body["flags"] == [
        {"rule": "referral_cluster", "severity": "high", "total": 1, "open": 0},
        {"rule": "signup_velocity_address", "severity": "low", "total": 1, "open": 0},
    ]
    assert (body["suspendedAccounts"], body["suspensions"], body["automaticSuspensions"]) == (3, 4, 3)
    assert body["reinstatements"] == 1
    assert body["clawedBackCredits"] == 600
    assert body["referralsWithheld"] == [{"reason": "shared_device", "count": 1}]
    assert abuse_metrics().clawed_back_credits == Decimal("600")


def test_the_metrics_are_for_staff_only(api_client, auth_client):
    assert_error(api_client.get(URL), 401, "NOT_AUTHENTICATED")
    assert_error(auth_client.get(URL), 403, "PERMISSION_DENIED")
