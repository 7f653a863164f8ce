"""The review queue in the admin (issue 16): flags with filters and search, and the actions dismiss,
suspend, reinstate and claw back — each with a required reason and the staff member recorded;
clawbacks go through the ledger and reconcile."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from abuse.models import AbuseAction, ActionKind, Flag, FlagStatus
from abuse.rules import Finding, Rule, Severity
from abuse.services import flags_raise
from accounts.models import User
from economy.models import LedgerEntry, LedgerKind, Referral, ReferralStatus
from economy.services import daily_reward_claim
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import balance_of, place

pytestmark = pytest.mark.django_db

FLAGS = "/admin/abuse/flag/"
USERS = "/admin/accounts/user/"


@pytest.fixture
def staff():
    return UserFactory(username="reviewer", is_staff=True, is_superuser=True)


@pytest.fixture
def browser(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def raise_flag(users, rule=Rule.REFERRAL_CLUSTER, severity=Severity.MEDIUM, key="device:farm-phone") -> Flag:
    (flag,) = flags_raise(
        [Finding(rule, severity, key, frozenset(user.pk for user in users), {"accounts": len(users)})]
    )
    return flag


def act(browser, action: str, flags: list[Flag], **form):
    """Run an admin action on `flags` through its confirmation page."""
    selection = {"action": action, "_selected_action": [flag.pk for flag in flags]}
    page = browser.post(FLAGS, selection)
    assert page.status_code == 200 and b"reason" in page.content
    return browser.post(FLAGS, {**selection, "confirm": "yes", **form})


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [flag.pk for flag in response.context["cl"].result_list]


def test_the_queue_lists_open_flags_first_with_their_accounts_and_the_overview(browser):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    old = raise_flag([alice], rule=Rule.PURCHASE_ANOMALY, key=f"user:{alice.pk}")
    Flag.objects.filter(pk=old.pk).update(status=FlagStatus.DISMISSED)
    new = raise_flag([alice, bob])

    response = browser.get(FLAGS)

    assert listed(response) == [new.pk, old.pk]
    assert b"alice" in response.content and b"bob" in response.content
    assert response.context["metrics"].flags  # the overview rides along


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "open"}, ["cluster"]),
        ({"severity__exact": "low"}, ["velocity"]),
        ({"rule__exact": "purchase_anomaly"}, ["purchases"]),
        ({"q": "carol"}, ["purchases"]),
        ({"q": "address:198.51.100.7"}, ["velocity"]),
    ],
)
def test_the_queue_filters_by_status_severity_and_rule_and_searches_accounts_and_keys(browser, query, expected):
    alice, carol = UserFactory(username="alice"), UserFactory(username="carol")
    made = {
        "cluster": raise_flag([alice]),
        "velocity": raise_flag(
            [alice], rule=Rule.SIGNUP_VELOCITY_ADDRESS, severity=Severity.LOW, key="address:198.51.100.7"
        ),
        "purchases": raise_flag([carol], rule=Rule.PURCHASE_ANOMALY, key=f"user:{carol.pk}"),
    }
    Flag.objects.filter(pk__in=[made["velocity"].pk, made["purchases"].pk]).update(status=FlagStatus.DISMISSED)

    assert listed(browser.get(FLAGS, query)) == [made[name].pk for name in expected]


def test_a_flag_page_shows_its_evidence_and_accounts(browser):
    flag = raise_flag([UserFactory(username="alice")])
    response = browser.get(f"{FLAGS}{flag.pk}/change/")
    assert response.status_code == 200
    assert b"alice" in response.content and b"accounts" in response.content


def test_dismissing_needs_a_reason_and_records_the_reviewer(browser, staff):
    flag = raise_flag([UserFactory()])

    refused = act(browser, "dismiss", [flag], reason="")
    assert refused.status_code == 200 and Flag.objects.get(pk=flag.pk).status == FlagStatus.OPEN

    assert act(browser, "dismiss", [flag], reason="Siblings on one tablet").status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by_id, flag.review_note) == (
        FlagStatus.DISMISSED,
        staff.pk,
        "Siblings on one tablet",
    )
    assert AbuseAction.objects.get(kind=ActionKind.DISMISS).staff_id == staff.pk


def test_suspending_a_flag_suspends_its_accounts_with_the_reason_and_staff_member(browser, staff):
    alice, bob = UserFactory(), UserFactory()
    flag = raise_flag([alice, bob])

    assert act(browser, "suspend", [flag], reason="Referral farm").status_code == 302

    assert set(User.objects.filter(suspended_at__isnull=False).values_list("pk", flat=True)) == {alice.pk, bob.pk}
    actions = AbuseAction.objects.filter(kind=ActionKind.SUSPEND)
    assert {(a.user_id, a.staff_id, a.flag_id, a.reason) for a in actions} == {
        (alice.pk, staff.pk, flag.pk, "Referral farm"),
        (bob.pk, staff.pk, flag.pk, "Referral farm"),
    }
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.ACTIONED


def test_reinstating_a_flags_accounts(browser, staff):
    alice = UserFactory()
    flag = raise_flag([alice])
    act(browser, "suspend", [flag], reason="Referral farm")

    assert act(browser, "reinstate", [flag], reason="Appeal upheld").status_code == 302

    assert not User.objects.get(pk=alice.pk).is_suspended
    assert AbuseAction.objects.filter(kind=ActionKind.REINSTATE, user=alice, staff=staff).exists()


def test_clawing_back_takes_referral_bonuses_and_rewards_through_the_ledger(
    browser, staff, django_capture_on_commit_callbacks
):
    referrer = UserFactory()
    farmed = UserFactory(referral_code=referrer.referral_code)  # +200 at sign-up
    daily_reward_claim(user_id=farmed.pk)  # +1000
    with django_capture_on_commit_callbacks(execute=True):
        place(farmed, MarketFactory(), amount="100")  # pays the referrer +200
    flag = raise_flag([referrer, farmed])

    assert (
        act(browser, "claw_back", [flag], reason="Referral farm", kinds=["referral_bonus", "daily_reward"]).status_code
        == 302
    )

    rows = LedgerEntry.objects.filter(kind=LedgerKind.CLAWBACK)
    assert sorted((row.user_id, row.amount) for row in rows) == sorted(
        [(referrer.pk, Decimal("-200")), (farmed.pk, Decimal("-200")), (farmed.pk, Decimal("-1000"))]
    )
    assert {row.created_by_id for row in rows} == {staff.pk}
    assert all("Referral farm" in row.description for row in rows)
    assert balance_of(referrer) == Decimal("1000")
    assert balance_of(farmed) == Decimal("900")  # 1000 + 200 + 1000 - 100 bet - 1200 taken back
    assert Referral.objects.get(pk=farmed.pk).status == ReferralStatus.CLAWED_BACK
    assert sum(AbuseAction.objects.filter(kind=ActionKind.CLAW_BACK).values_list("amount", flat=True)) == Decimal(
        "1400"
    )
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.ACTIONED
    assert_ledger_reconciles()


def test_a_second_clawback_takes_nothing_more(browser):
    referrer = UserFactory()
    farmed = UserFactory(referral_code=referrer.referral_code)
    flag = raise_flag([farmed])
    act(browser, "claw_back", [flag], reason="first", kinds=["referral_bonus"])

    act(browser, "claw_back", [flag], reason="again", kinds=["referral_bonus", "daily_reward"])

    assert LedgerEntry.objects.filter(kind=LedgerKind.CLAWBACK).count() == 1
    assert balance_of(farmed) == Decimal("1000")


def test_a_clawback_never_takes_the_balance_below_zero(browser):
    referrer = UserFactory()
    farmed = UserFactory(referral_code=referrer.referral_code)
    daily_reward_claim(user_id=farmed.pk)
    place(farmed, MarketFactory(), amount="2150")  # 2200 - 2150: 50 left
    flag = raise_flag([farmed])

    act(browser, "claw_back", [flag], reason="farm", kinds=["referral_bonus", "daily_reward"])

    assert balance_of(farmed) == Decimal("0")
    assert [row.amount for row in LedgerEntry.objects.filter(kind=LedgerKind.CLAWBACK)] == [Decimal("-50")]
    assert_ledger_reconciles()


def test_staff_without_the_review_permission_get_no_actions():
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_flag"))
    client = Client()
    client.force_login(viewer)
    flag = raise_flag([UserFactory()])

    response = client.get(FLAGS)

    assert response.status_code == 200
    assert response.context["action_form"] is None  # no action it may run
    client.post(FLAGS, {"action": "suspend", "_selected_action": [flag.pk], "confirm": "yes", "reason": "x"})
    assert not User.objects.filter(suspended_at__isnull=False).exists()


def test_staff_can_suspend_and_reinstate_from_the_user_admin(browser, staff):
    alice = UserFactory(username="alice")
    selection = {"action": "suspend_users", "_selected_action": [alice.pk]}

    assert browser.post(USERS, selection).status_code == 200
    assert browser.post(USERS, {**selection, "confirm": "yes", "reason": "Chargeback"}).status_code == 302
    assert User.objects.get(pk=alice.pk).suspension_reason == "Chargeback"

    selection["action"] = "reinstate_users"
    browser.post(USERS, {**selection, "confirm": "yes", "reason": "Resolved"})
    assert not User.objects.get(pk=alice.pk).is_suspended
    assert list(AbuseAction.objects.order_by("id").values_list("kind", "staff_id")) == [
        (ActionKind.SUSPEND, staff.pk),
        (ActionKind.REINSTATE, staff.pk),
    ]
