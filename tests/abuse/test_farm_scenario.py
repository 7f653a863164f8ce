"""Issue 16, "How it will be checked": a scripted farm over HTTP — many accounts from one address and
one device, chained referrals, daily claims, first bets — is flagged, its referral credits are
withheld (the referrers') or clawed back (the new accounts'), and it is suspended; a crowd of
ordinary users behind one address is not; the ledger reconciles afterwards. Real transactions, so
every after-commit step (referral settlement, inline flags) runs as in production."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from abuse.models import Flag
from abuse.rules import Rule, Severity
from abuse.tasks import scan_for_abuse
from accounts.models import User
from accounts.tokens import token_pair_issue
from economy.models import LedgerEntry, LedgerKind, Referral, ReferralStatus
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from tests.helpers.betting import BETS, payload
from tests.helpers.clients import LOGIN, STRONG_PASSWORD, client_from, sign_up

pytestmark = pytest.mark.django_db(transaction=True)

FARM_ADDRESS, FARM_DEVICE, FARM_SIZE = "203.0.113.66", "farm-device-1", 8
CAMPUS_ADDRESS, CROWD_SIZE = "198.51.100.200", 15


@pytest.fixture(autouse=True)
def _one_address_may_sign_up_many(settings):
    # The farmer and the campus both need more sign-ups per address than the default 5 an hour.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "register": "100/hour", "login": "100/hour"}


@pytest.fixture
def market(db):
    return MarketFactory()


def play(username: str, market, *, address: str, device: str, code: str = "") -> str:
    """Sign up (with `code`), log in again, claim the daily reward and place a first bet of 100;
    return the new account's referral code."""
    client = sign_up(username, address=address, device=device, code=code)
    login = client_from(address, device).post(
        LOGIN, {"email": f"{username}@example.com", "password": STRONG_PASSWORD}, format="json"
    )
    assert login.status_code == 200
    assert client.post("/api/v1/rewards/daily").status_code == 201
    assert client.post(BETS, payload(market, amount="100"), format="json").status_code == 201
    return client.get("/api/v1/users/me").json()["referralCode"]


def in_client(username: str, *, address: str, device: str) -> Client:
    """A client signed in as `username` (by logging in again from `address` and `device`)."""
    login = client_from(address, device).post(
        LOGIN, {"email": f"{username}@example.com", "password": STRONG_PASSWORD}, format="json"
    )
    return client_from(address, device, token=login.json()["accessToken"])


def test_a_referral_farm_is_flagged_withheld_suspended_and_clawed_back_and_a_crowd_is_not(market):
    farm = [f"farm_{n}" for n in range(FARM_SIZE)]
    crowd = [f"student_{n}" for n in range(CROWD_SIZE)]

    # The farm: one address, one device, each account signed up with the previous one's code.
    code = ""
    for username in farm:
        code = play(username, market, address=FARM_ADDRESS, device=FARM_DEVICE, code=code)
    # The crowd: a campus behind one address, each on their own phone; one student invites another.
    student_code = play(crowd[0], market, address=CAMPUS_ADDRESS, device="phone-0")
    play(crowd[1], market, address=CAMPUS_ADDRESS, device="phone-1", code=student_code)
    for n, username in enumerate(crowd[2:], start=2):
        play(username, market, address=CAMPUS_ADDRESS, device=f"phone-{n}")

    # The referrers' bonuses were decided at each first bet: none paid, because of the shared device or address.
    referrals = {r.referred.username: r for r in Referral.objects.select_related("referred")}
    assert {referrals[name].reason for name in farm[1:]} == {"shared_device"}
    assert referrals[crowd[1]].reason == "shared_address"
    assert not Referral.objects.filter(status=ReferralStatus.PAID).exists()
    # The only referral bonuses on the ledger are the new accounts' own, paid at sign-up.
    assert len(referrals) == (FARM_SIZE - 1) + 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFERRAL_BONUS).count() == len(referrals)

    scan_for_abuse.apply()

    # The farm is flagged: a high referral cluster on its device, and its device's sign-up and claim bursts.
    cluster = Flag.objects.get(rule=Rule.REFERRAL_CLUSTER, key=f"device:{FARM_DEVICE}")
    assert cluster.severity == Severity.HIGH
    assert set(cluster.users.values_list("username", flat=True)) == set(farm)
    assert Flag.objects.filter(rule=Rule.SIGNUP_VELOCITY_DEVICE, key=f"device:{FARM_DEVICE}").exists()
    assert Flag.objects.filter(rule=Rule.CLAIM_VELOCITY_DEVICE, key=f"device:{FARM_DEVICE}").exists()
    # ... and suspended: it can read, not bet or claim.
    suspended = set(User.objects.filter(suspended_at__isnull=False).values_list("username", flat=True))
    assert suspended == set(farm)
    farmer = in_client(farm[3], address=FARM_ADDRESS, device=FARM_DEVICE)
    assert farmer.get("/api/v1/users/me").json()["isSuspended"] is True
    assert_error(farmer.post(BETS, payload(market, amount="10"), format="json"), 403, "ACCOUNT_SUSPENDED")
    assert_error(farmer.post("/api/v1/rewards/daily"), 403, "ACCOUNT_SUSPENDED")

    # The crowd is not suspended, and only low-severity findings name it (a campus address is not a farm).
    crowd_flags = Flag.objects.filter(users__username__in=crowd).distinct()
    assert {flag.severity for flag in crowd_flags} == {Severity.LOW}
    assert {flag.rule for flag in crowd_flags} == {
        Rule.SIGNUP_VELOCITY_ADDRESS,
        Rule.CLAIM_VELOCITY_ADDRESS,
        Rule.SELF_REFERRAL,
    }
    student = in_client(crowd[5], address=CAMPUS_ADDRESS, device="phone-5")
    assert student.post(BETS, payload(market, amount="10"), format="json").status_code == 201

    # Staff claw the farm's referral bonuses and rewards back through the ledger, from the review queue.
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    selection = {"action": "claw_back", "_selected_action": [cluster.pk], "confirm": "yes"}
    form = {"reason": "Referral farm on one device", "kinds": ["referral_bonus", "daily_reward"]}
    assert browser.post("/admin/abuse/flag/", {**selection, **form}).status_code == 302

    clawbacks = LedgerEntry.objects.filter(kind=LedgerKind.CLAWBACK)
    assert set(clawbacks.values_list("user__username", flat=True)) == set(farm)
    assert {row.created_by_id for row in clawbacks} == {staff.pk}
    # Each farm account had its 1,000 reward and (all but the first) a 200 referral bonus: all taken back.
    assert -sum(row.amount for row in clawbacks) == Decimal(1000 * FARM_SIZE + 200 * (FARM_SIZE - 1))
    for username in farm:
        assert User.objects.get(username=username).credit_balance == Decimal("900")  # 1,000 start - 100 bet

    metrics = client_from(token=token_pair_issue(user=staff).access_token).get("/api/v1/monitoring/abuse").json()
    assert metrics["suspendedAccounts"] == FARM_SIZE
    assert metrics["clawedBackCredits"] == 1000 * FARM_SIZE + 200 * (FARM_SIZE - 1)

    assert_ledger_reconciles()
    call_command("reconcile_ledger")  # exits 1 on any mismatch
