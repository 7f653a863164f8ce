"""The anti-abuse rules (abuse/rules.py), pure: each with data that trips it and data that must not
(false positives matter: a household or a campus sharing an address is not a farm by itself)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from abuse import rules
from abuse.rules import BetMove, ClientEvent, CreditPosting, PurchaseFact, Rule, Severity, Thresholds

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LIMITS = Thresholds()


def users(count: int) -> list[UUID]:
    return [uuid4() for _ in range(count)]


def events(accounts: list[UUID], *, address="203.0.113.5", device="", every=timedelta(minutes=10)) -> list[ClientEvent]:
    return [ClientEvent(user_id, T0 + every * n, address, device) for n, user_id in enumerate(accounts)]


# --- sign-up velocity -----------------------------------------------------------------------------
def test_three_sign_ups_from_one_device_in_a_day_trip_the_device_rule():
    farm = users(3)

    (finding,) = rules.signup_velocity(events(farm, device="phone-1", address=None), LIMITS)

    assert (finding.rule, finding.severity, finding.key) == (
        Rule.SIGNUP_VELOCITY_DEVICE,
        Severity.MEDIUM,
        "device:phone-1",
    )
    assert finding.user_ids == frozenset(farm)
    assert finding.evidence["accounts"] == 3


def test_sign_ups_from_one_device_spread_over_days_do_not():
    spread = events(users(3), device="phone-1", address=None, every=timedelta(hours=25))
    assert rules.signup_velocity(spread, LIMITS) == []


def test_ten_sign_ups_from_one_address_in_a_day_trip_the_address_rule_as_low():
    crowd = users(10)

    (finding,) = rules.signup_velocity(events(crowd), LIMITS)

    assert (finding.rule, finding.severity, finding.key) == (
        Rule.SIGNUP_VELOCITY_ADDRESS,
        Severity.LOW,
        "address:203.0.113.5",
    )
    assert finding.user_ids == frozenset(crowd)


def test_a_household_signing_up_from_one_address_is_not_flagged():
    assert rules.signup_velocity(events(users(4)), LIMITS) == []


def test_only_the_accounts_inside_a_busy_window_are_named():
    early = users(1)
    burst = users(3)
    signups = [
        ClientEvent(early[0], T0 - timedelta(days=3), None, "phone-1"),
        *events(burst, device="phone-1", address=None),
    ]

    (finding,) = rules.signup_velocity(signups, LIMITS)

    assert finding.user_ids == frozenset(burst)


def test_sign_ups_without_a_device_header_never_count_as_one_device():
    assert rules.signup_velocity(events(users(5), device="", address=None), LIMITS) == []


# --- reward-claim velocity ------------------------------------------------------------------------
def test_three_accounts_claiming_from_one_device_in_a_day_trip_the_claim_rule():
    farm = users(3)

    (finding,) = rules.claim_velocity(events(farm, device="phone-9", address=None), LIMITS)

    assert (finding.rule, finding.severity) == (Rule.CLAIM_VELOCITY_DEVICE, Severity.MEDIUM)
    assert finding.user_ids == frozenset(farm)


def test_one_account_claiming_every_day_from_its_device_is_not_flagged():
    (me,) = users(1)
    daily = [ClientEvent(me, T0 + timedelta(days=n), "203.0.113.5", "phone-9") for n in range(10)]
    assert rules.claim_velocity(daily, LIMITS) == []


def test_an_office_claiming_from_one_address_is_low_and_below_ten_accounts_nothing():
    assert rules.claim_velocity(events(users(9)), LIMITS) == []
    (finding,) = rules.claim_velocity(events(users(10)), LIMITS)
    assert (finding.rule, finding.severity) == (Rule.CLAIM_VELOCITY_ADDRESS, Severity.LOW)


# --- referral clusters ----------------------------------------------------------------------------
def test_a_referral_chain_on_one_device_is_a_high_cluster():
    root, a, b, c = users(4)
    chain = {a: root, b: a, c: b}

    (finding,) = rules.referral_clusters({"device:phone-1": {root, a, b, c}}, chain, LIMITS)

    assert (finding.rule, finding.severity, finding.key) == (Rule.REFERRAL_CLUSTER, Severity.HIGH, "device:phone-1")
    assert finding.user_ids == frozenset({root, a, b, c})


def test_accounts_on_one_device_sharing_one_referrer_elsewhere_are_a_cluster_without_the_referrer():
    influencer, a, b, c = users(4)

    (finding,) = rules.referral_clusters({"device:phone-1": {a, b, c}}, dict.fromkeys((a, b, c), influencer), LIMITS)

    assert finding.user_ids == frozenset({a, b, c})
    assert finding.evidence["referrers"] == [str(influencer)]


def test_an_address_cluster_needs_five_and_is_medium():
    root, *friends = users(5)
    chain = dict.fromkeys(friends, root)

    assert rules.referral_clusters({"address:203.0.113.5": {root, *friends[:3]}}, chain, LIMITS) == []
    (finding,) = rules.referral_clusters({"address:203.0.113.5": {root, *friends}}, chain, LIMITS)
    assert finding.severity == Severity.MEDIUM


def test_many_accounts_on_one_address_that_never_referred_each_other_are_not_a_cluster():
    crowd = users(50)
    assert rules.referral_clusters({"address:203.0.113.5": set(crowd)}, {}, LIMITS) == []


def test_two_small_unrelated_referral_pairs_on_one_address_are_not_a_cluster():
    a, b, c, d, e, f = users(6)
    pairs = {b: a, d: c, f: e}
    assert rules.referral_clusters({"address:203.0.113.5": {a, b, c, d, e, f}}, pairs, LIMITS) == []


# --- self-referral --------------------------------------------------------------------------------
def test_a_referral_between_accounts_sharing_a_device_is_medium():
    referrer, referred = users(2)

    finding = rules.self_referral(
        referrer_id=referrer, referred_id=referred, shared_devices={"phone-1"}, shared_addresses={"203.0.113.5"}
    )

    assert (finding.rule, finding.severity, finding.key) == (
        Rule.SELF_REFERRAL,
        Severity.MEDIUM,
        f"referral:{referred}",
    )
    assert finding.user_ids == frozenset({referrer, referred})
    assert finding.evidence["devices"] == ["phone-1"]


def test_a_referral_within_a_household_is_only_low():
    referrer, referred = users(2)
    finding = rules.self_referral(
        referrer_id=referrer, referred_id=referred, shared_devices=set(), shared_addresses={"203.0.113.5"}
    )
    assert finding.severity == Severity.LOW


def test_a_referral_between_strangers_is_nothing():
    referrer, referred = users(2)
    assert (
        rules.self_referral(referrer_id=referrer, referred_id=referred, shared_devices=[], shared_addresses=[]) is None
    )


# --- purchases ------------------------------------------------------------------------------------
def test_ten_purchases_in_a_day_are_an_anomaly():
    (buyer,) = users(1)
    bought = [PurchaseFact(buyer, T0 + timedelta(hours=n), Decimal(500)) for n in range(10)]

    (finding,) = rules.purchase_anomalies(bought, LIMITS)

    assert (finding.rule, finding.severity, finding.key) == (Rule.PURCHASE_ANOMALY, Severity.MEDIUM, f"user:{buyer}")
    assert finding.evidence["mostPurchases"] == 10


def test_thirty_thousand_credits_in_a_day_are_an_anomaly():
    (buyer,) = users(1)
    bought = [PurchaseFact(buyer, T0 + timedelta(hours=n), Decimal(8000)) for n in range(4)]
    (finding,) = rules.purchase_anomalies(bought, LIMITS)
    assert finding.evidence["mostCredits"] == "32000"


def test_a_regular_buyer_spread_over_days_is_not():
    (buyer,) = users(1)
    bought = [PurchaseFact(buyer, T0 + timedelta(hours=20 * n), Decimal(8000)) for n in range(12)]
    assert rules.purchase_anomalies(bought, LIMITS) == []


# --- odds moves -----------------------------------------------------------------------------------
def moves(user_id: UUID, ahead: int, flat: int) -> list[BetMove]:
    return [BetMove(user_id, uuid4(), Decimal("0.40"), Decimal("0.48")) for _ in range(ahead)] + [
        BetMove(user_id, uuid4(), Decimal("0.40"), Decimal("0.41")) for _ in range(flat)
    ]


def test_a_bettor_whose_bets_keep_landing_before_the_odds_move_is_flagged():
    (sniper,) = users(1)

    (finding,) = rules.odds_move_wins(moves(sniper, ahead=6, flat=1), LIMITS)

    assert (finding.rule, finding.severity, finding.key) == (Rule.ODDS_MOVE_WINS, Severity.MEDIUM, f"user:{sniper}")
    assert finding.evidence["aheadOfMove"] == 6


@pytest.mark.parametrize(("ahead", "flat"), [(4, 0), (6, 10)], ids=["a few lucky bets", "mostly unmoved"])
def test_lucky_or_busy_bettors_are_not(ahead, flat):
    (bettor,) = users(1)
    assert rules.odds_move_wins(moves(bettor, ahead=ahead, flat=flat), LIMITS) == []


def test_odds_moving_against_the_bet_do_not_count():
    (bettor,) = users(1)
    against = [BetMove(bettor, uuid4(), Decimal("0.40"), Decimal("0.30")) for _ in range(8)]
    assert rules.odds_move_wins(against, LIMITS) == []


# --- balance jumps --------------------------------------------------------------------------------
def test_a_bonus_bigger_than_the_product_pays_is_a_high_balance_jump():
    (lucky,) = users(1)
    postings = [
        CreditPosting(1, lucky, "referral_bonus", Decimal("200"), limit=Decimal("200")),
        CreditPosting(2, lucky, "daily_reward", Decimal("50000"), limit=Decimal("10000")),
    ]

    (finding,) = rules.balance_jumps(postings, staff_kinds=["admin_adjustment"])

    assert (finding.rule, finding.severity, finding.key) == (Rule.BALANCE_JUMP, Severity.HIGH, f"user:{lucky}")
    assert [posting["entry"] for posting in finding.evidence["postings"]] == [2]


def test_a_large_staff_adjustment_is_only_medium():
    (user,) = users(1)
    postings = [CreditPosting(1, user, "admin_adjustment", Decimal("50000"), limit=Decimal("10000"))]
    (finding,) = rules.balance_jumps(postings, staff_kinds=["admin_adjustment"])
    assert finding.severity == Severity.MEDIUM


def test_credits_within_their_kinds_normal_sizes_are_not_jumps():
    (user,) = users(1)
    postings = [
        CreditPosting(1, user, "signup_bonus", Decimal("1000"), limit=Decimal("1000")),
        CreditPosting(2, user, "bet_payout", Decimal("153.85"), limit=Decimal("153.85")),
        CreditPosting(3, user, "purchase", Decimal("8000"), limit=Decimal("8000")),
    ]
    assert rules.balance_jumps(postings) == []


def test_a_burst_from_one_device_and_address_trips_both_sign_up_rules():
    findings = rules.signup_velocity(events(users(10), device="phone-1"), LIMITS)
    assert {finding.rule for finding in findings} == {Rule.SIGNUP_VELOCITY_ADDRESS, Rule.SIGNUP_VELOCITY_DEVICE}
