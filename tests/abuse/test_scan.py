"""The anti-abuse scan (beat, every 10 minutes): every rule over the recorded activity, a flag per
finding — deduplicated per rule and key, never raised again for accounts staff reviewed — an alert
line per flag, and automatic suspension for high-severity referral clusters only."""

import logging
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.utils import timezone

from abuse.models import Flag, FlagStatus
from abuse.rules import Rule, Severity
from abuse.services import account_reinstate, flag_dismiss
from abuse.tasks import scan_for_abuse
from accounts.models import User
from activity.models import Activity, ActivityKind
from betting.services import market_resolve
from economy.models import LedgerKind, Referral
from economy.services import credit_adjust, ledger_post
from markets.models import ResolutionSource
from markets.services import OddsUpdate, market_odds_update_many
from stocks.services import stock_buy, stock_sell
from tests.factories import CreditPackageFactory, MarketFactory, StockFactory, UserFactory
from tests.helpers.betting import BETS, payload, place
from tests.helpers.clients import account, sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


def code_of(client) -> str:
    return client.get("/api/v1/users/me").json()["referralCode"]


def chain(prefix: str, length: int, *, address: str, device: str | None) -> list:
    """`length` accounts, each signed up with the previous one's code."""
    clients, code = [], ""
    for n in range(length):
        clients.append(sign_up(f"{prefix}_{n}", address=address, device=device, code=code))
        code = code_of(clients[-1])
    return clients


def flags(rule: Rule) -> list[Flag]:
    return list(Flag.objects.filter(rule=rule))


def names(flag: Flag) -> set[str]:
    return set(flag.users.values_list("username", flat=True))


def test_a_referral_chain_on_one_device_is_flagged_high_and_suspended():
    chain("farm", 4, address="203.0.113.50", device="farm-phone")

    scan_for_abuse.apply()

    (cluster,) = flags(Rule.REFERRAL_CLUSTER)
    assert (cluster.severity, cluster.key) == (Severity.HIGH, "device:farm-phone")
    assert names(cluster) == {"farm_0", "farm_1", "farm_2", "farm_3"}
    assert set(User.objects.filter(suspended_at__isnull=False).values_list("username", flat=True)) == names(cluster)
    (velocity,) = flags(Rule.SIGNUP_VELOCITY_DEVICE)
    assert velocity.severity == Severity.MEDIUM


def test_a_crowd_behind_one_address_is_flagged_low_at_most_and_nobody_is_suspended():
    for n in range(12):
        sign_up(f"student_{n}", address="198.51.100.80", device=f"phone-{n}")

    scan_for_abuse.apply()

    assert [flag.rule for flag in Flag.objects.all()] == [Rule.SIGNUP_VELOCITY_ADDRESS]
    assert Flag.objects.get().severity == Severity.LOW
    assert not User.objects.filter(suspended_at__isnull=False).exists()


def test_an_address_cluster_of_referrals_is_medium_and_not_suspended():
    chain("dorm", 5, address="198.51.100.81", device=None)

    scan_for_abuse.apply()

    (cluster,) = flags(Rule.REFERRAL_CLUSTER)
    assert (cluster.severity, cluster.key) == (Severity.MEDIUM, "address:198.51.100.81")
    assert not User.objects.filter(suspended_at__isnull=False).exists()


def test_reward_claims_of_several_accounts_from_one_device_are_flagged():
    clients = [sign_up(f"claimer_{n}", address=f"203.0.113.{n}", device="shared-phone") for n in range(3)]
    for client in clients:
        assert client.post("/api/v1/rewards/daily").status_code == 201

    scan_for_abuse.apply()

    (claims,) = flags(Rule.CLAIM_VELOCITY_DEVICE)
    assert names(claims) == {"claimer_0", "claimer_1", "claimer_2"}


def test_frequent_purchases_are_flagged(settings):
    settings.ABUSE_PURCHASES_PER_WINDOW = 3
    buyer = sign_up("buyer", address="203.0.113.60", device="buyer-phone")
    pack = CreditPackageFactory()
    for _ in range(3):
        assert buyer.post("/api/v1/purchases", {"packageId": pack.pk}, format="json").status_code == 201

    scan_for_abuse.apply()

    (anomaly,) = flags(Rule.PURCHASE_ANOMALY)
    assert names(anomaly) == {"buyer"}


def test_bets_that_keep_landing_before_the_odds_move_are_flagged(settings, django_capture_on_commit_callbacks):
    settings.ABUSE_ODDS_MOVE_BETS = 3
    sniper = sign_up("sniper", address="203.0.113.61", device="sniper-phone")
    for _ in range(3):
        market = MarketFactory(this_odds=Decimal("0.40"), that_odds=Decimal("0.60"))
        assert sniper.post(BETS, payload(market, amount="50"), format="json").status_code == 201
        with django_capture_on_commit_callbacks(execute=True):
            market_odds_update_many(updates=[OddsUpdate(market.pk, Decimal("0.5500"), Decimal("0.4500"))])

    scan_for_abuse.apply()

    (moves,) = flags(Rule.ODDS_MOVE_WINS)
    assert names(moves) == {"sniper"}


def test_a_large_staff_adjustment_is_flagged_for_a_second_look(staff):
    lucky = UserFactory(username="lucky")
    credit_adjust(user_id=lucky.pk, amount=Decimal("50000"), reason="goodwill", staff_id=staff.pk)

    scan_for_abuse.apply()

    (jump,) = flags(Rule.BALANCE_JUMP)
    assert (jump.severity, names(jump)) == (Severity.MEDIUM, {"lucky"})
    assert not User.objects.filter(suspended_at__isnull=False).exists()


def test_ordinary_activity_raises_no_flag(django_capture_on_commit_callbacks):
    market = MarketFactory()
    for n in range(3):
        client = sign_up(f"regular_{n}", address=f"203.0.113.{70 + n}", device=f"own-phone-{n}")
        client.post("/api/v1/rewards/daily")
        client.post(BETS, payload(market), format="json")

    scan_for_abuse.apply()

    assert not Flag.objects.exists()


def test_scanning_again_raises_nothing_new_and_a_new_account_joins_the_open_flag():
    code = code_of(sign_up("influencer", address="198.51.100.1", device="studio"))
    for n in range(3):
        sign_up(f"farm_{n}", address="203.0.113.50", device="farm-phone", code=code)
    scan_for_abuse.apply()
    scan_for_abuse.apply()
    assert Flag.objects.filter(rule=Rule.REFERRAL_CLUSTER).count() == 1

    sign_up("farm_3", address="203.0.113.50", device="farm-phone", code=code)
    scan_for_abuse.apply()

    (cluster,) = flags(Rule.REFERRAL_CLUSTER)
    assert names(cluster) == {"farm_0", "farm_1", "farm_2", "farm_3"}  # the referrer elsewhere is evidence only
    assert cluster.evidence["referrers"] == [str(account("influencer").pk)]
    assert account("farm_3").is_suspended
    assert not account("influencer").is_suspended


def test_a_dismissed_finding_is_not_raised_again_nor_are_reinstated_accounts_suspended_again(staff):
    chain("family", 3, address="203.0.113.50", device="family-tablet")
    scan_for_abuse.apply()
    cluster = Flag.objects.get(rule=Rule.REFERRAL_CLUSTER)
    for user in cluster.users.all():
        account_reinstate(user_id=user.pk, reason="a family on one tablet", staff_id=staff.pk)
    flag_dismiss(flag_id=cluster.pk, staff_id=staff.pk, reason="a family on one tablet")

    scan_for_abuse.apply()

    assert Flag.objects.filter(rule=Rule.REFERRAL_CLUSTER).get().status == FlagStatus.DISMISSED
    assert not User.objects.filter(suspended_at__isnull=False).exists()


def test_staff_accounts_are_never_suspended_automatically(staff):
    staff_client = sign_up("not_staff_yet", address="203.0.113.50", device="farm-phone")
    User.objects.filter(username="not_staff_yet").update(is_staff=True)
    code = code_of(staff_client)
    for n in range(2):
        sign_up(f"farm_{n}", address="203.0.113.50", device="farm-phone", code=code)

    scan_for_abuse.apply()

    assert not account("not_staff_yet").is_suspended
    assert account("farm_0").is_suspended


def test_each_new_flag_is_logged_as_a_warning(caplog):
    chain("farm", 3, address="203.0.113.50", device="farm-phone")

    with caplog.at_level(logging.WARNING, logger="abuse.services"):
        scan_for_abuse.apply()

    raised = [record for record in caplog.records if record.getMessage() == "abuse flag raised"]
    assert {record.rule for record in raised} == {
        Rule.REFERRAL_CLUSTER,
        Rule.SIGNUP_VELOCITY_DEVICE,
        Rule.SELF_REFERRAL,
    }


def test_activity_older_than_the_lookback_is_not_scanned(settings):
    settings.ABUSE_SCAN_LOOKBACK_HOURS = 24
    chain("farm", 3, address="203.0.113.50", device="farm-phone")
    Activity.objects.update(created_at=timezone.now() - timedelta(hours=25))
    Referral.objects.update(created_at=timezone.now() - timedelta(hours=25))

    scan_for_abuse.apply()

    assert not Flag.objects.exists()


def test_the_scan_reports_what_it_found():
    chain("farm", 3, address="203.0.113.50", device="farm-phone")

    summary = scan_for_abuse.apply().get()

    # Each of the two referrals on the device is a self-referral too.
    assert summary["findings"] == {"signup_velocity_device": 1, "referral_cluster": 1, "self_referral": 2}
    assert summary["flags_raised"] == 4
    assert Activity.objects.filter(kind=ActivityKind.SIGNUP).count() == 3


def test_credits_bigger_than_their_kind_pays_are_flagged_high_and_ordinary_payouts_are_not(
    staff, django_capture_on_commit_callbacks
):
    winner, inflated = UserFactory(username="winner"), UserFactory(username="inflated")
    market = MarketFactory()
    place(winner, market, amount="100")
    with django_capture_on_commit_callbacks(execute=True):
        market_resolve(market_id=market.pk, outcome="this", source=ResolutionSource.ADMIN, resolved_by_id=staff.pk)
    ledger_post(user_id=inflated.pk, amount=Decimal("50000"), kind=LedgerKind.DAILY_REWARD, reference_id=uuid4())

    scan_for_abuse.apply()

    (jump,) = flags(Rule.BALANCE_JUMP)
    assert (jump.severity, names(jump)) == (Severity.HIGH, {"inflated"})
    assert jump.evidence["postings"][0]["normalMax"] == "10000"


def test_a_stock_sale_is_a_balance_jump_only_beyond_its_trade():
    """A sale's credits come from the stock's reserve: as big as the trade says is ordinary; a stock_sell
    row bigger than its trade is not."""
    StockFactory(symbol="THIS")
    early, late, inflated = (UserFactory(username=name) for name in ("early", "late", "inflated"))
    stock_buy(user_id=early.pk, symbol="THIS", shares=Decimal(10))
    stock_buy(user_id=late.pk, symbol="THIS", shares=Decimal(50))
    stock_buy(user_id=inflated.pk, symbol="THIS", shares=Decimal(1))
    assert stock_sell(user_id=early.pk, symbol="THIS", shares=Decimal(10)).trade.realized_pnl > 0  # ordinary
    trade = stock_sell(user_id=inflated.pk, symbol="THIS", shares=Decimal(1)).trade
    ledger_post(user_id=inflated.pk, amount=Decimal(500), kind=LedgerKind.STOCK_SELL, reference_id=uuid4())

    scan_for_abuse.apply()

    (jump,) = flags(Rule.BALANCE_JUMP)
    assert (jump.severity, names(jump)) == (Severity.HIGH, {"inflated"})
    assert [posting["normalMax"] for posting in jump.evidence["postings"]] == ["0"]  # no trade of its own
    assert trade.credits < 500
