"""Suspension (issue 16): an audited user state. A suspended account can sign in and read, but
every credit-earning and -spending endpoint refuses it with 403 ACCOUNT_SUSPENDED (bet, cash out,
claim, buy), and its referral code no longer works; settlement still pays it, staff may still adjust
it, and reinstating lifts it all."""

from decimal import Decimal

import pytest

from abuse.models import AbuseAction, ActionKind
from abuse.services import account_reinstate, account_suspend
from accounts.models import User
from betting.services import market_resolve
from economy.models import LedgerEntry, LedgerKind
from economy.payments import Charge, ChargeResult, PaymentProvider
from economy.services import credit_adjust, purchase_complete, purchase_create
from markets.models import ResolutionSource
from tests.factories import CreditPackageFactory, MarketFactory, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from tests.helpers.betting import BETS, balance_of, payload, place, sell_url
from thisthat.errors import ValidationFailed

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"


@pytest.fixture
def market(db):
    return MarketFactory()


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def suspended(user, staff):
    assert account_suspend(user_id=user.pk, reason="Farm of referral accounts", staff_id=staff.pk)
    return user


def test_suspension_is_a_user_state_with_an_audit_row(suspended, staff):
    user = User.objects.get(pk=suspended.pk)
    assert user.is_suspended and user.suspension_reason == "Farm of referral accounts"
    (action,) = AbuseAction.objects.all()
    assert (action.kind, action.user_id, action.staff_id, action.reason) == (
        ActionKind.SUSPEND,
        user.pk,
        staff.pk,
        "Farm of referral accounts",
    )


def test_suspending_twice_changes_nothing_and_a_reason_is_required(suspended, staff):
    assert not account_suspend(user_id=suspended.pk, reason="again", staff_id=staff.pk)
    assert AbuseAction.objects.count() == 1
    with pytest.raises(ValidationFailed):
        account_suspend(user_id=UserFactory().pk, reason="  ", staff_id=staff.pk)


def test_a_suspended_account_cannot_bet(suspended, auth_client, market):
    assert_error(auth_client.post(BETS, payload(market), format="json"), 403, "ACCOUNT_SUSPENDED")
    assert not suspended.bets.exists()
    assert balance_of(suspended) == Decimal("1000")


def test_a_suspended_account_cannot_cash_out(user, staff, auth_client, market):
    bet = place(user, market)
    account_suspend(user_id=user.pk, reason="review", staff_id=staff.pk)

    assert_error(auth_client.post(sell_url(bet), {}, format="json"), 403, "ACCOUNT_SUSPENDED")
    bet.refresh_from_db()
    assert bet.status == "pending"


def test_a_suspended_account_cannot_claim_the_daily_reward(suspended, auth_client):
    assert_error(auth_client.post("/api/v1/rewards/daily"), 403, "ACCOUNT_SUSPENDED")
    assert not suspended.daily_rewards.exists()


def test_a_suspended_account_cannot_buy_and_is_not_charged(suspended, auth_client, monkeypatch):
    from economy.payments import ManualProvider

    charged = []
    monkeypatch.setattr(ManualProvider, "charge", lambda self, purchase: charged.append(purchase))
    pack = CreditPackageFactory()

    assert_error(auth_client.post("/api/v1/purchases", {"packageId": pack.pk}, format="json"), 403, "ACCOUNT_SUSPENDED")
    assert charged == []
    assert not suspended.purchases.exists()


def test_a_suspended_accounts_referral_code_is_refused(suspended, api_client):
    body = {
        "username": "newbie",
        "email": "newbie@example.com",
        "password": "s3cure-Passw0rd!",
        "referralCode": suspended.referral_code,
    }
    assert_error(api_client.post(REGISTER, body, format="json"), 400, "INVALID_REFERRAL_CODE")
    assert not User.objects.filter(username="newbie").exists()


def test_a_suspended_account_can_sign_in_and_read(suspended, api_client, auth_client, market):
    login = api_client.post(
        "/api/v1/auth/login", {"email": suspended.email, "password": "correct-horse-battery-staple"}, format="json"
    )
    assert login.status_code == 200
    assert login.json()["user"]["isSuspended"] is True
    for url in [
        "/api/v1/users/me",
        "/api/v1/bets/me",
        "/api/v1/transactions/me",
        "/api/v1/referrals/me",
        "/api/v1/rewards/daily",
    ]:
        assert auth_client.get(url).status_code == 200, url
    assert auth_client.get(f"/api/v1/markets/{market.pk}").status_code == 200


def test_the_refusal_is_replayed_for_the_same_idempotency_key(suspended, auth_client, market):
    for _ in range(2):
        response = auth_client.post(BETS, payload(market), format="json", HTTP_IDEMPOTENCY_KEY="k1")
        assert_error(response, 403, "ACCOUNT_SUSPENDED")


def test_settlement_still_pays_a_suspended_account(user, staff, market, django_capture_on_commit_callbacks):
    bet = place(user, market, amount="100")
    account_suspend(user_id=user.pk, reason="review", staff_id=staff.pk)

    with django_capture_on_commit_callbacks(execute=True):
        market_resolve(market_id=market.pk, outcome="this", source=ResolutionSource.ADMIN, resolved_by_id=staff.pk)

    bet.refresh_from_db()
    assert bet.status == "won"
    assert LedgerEntry.objects.filter(user=user, kind=LedgerKind.BET_PAYOUT).exists()
    assert_ledger_reconciles()


def test_staff_may_still_adjust_a_suspended_account(suspended, staff):
    credit_adjust(user_id=suspended.pk, amount=Decimal("-100"), reason="correction", staff_id=staff.pk)
    assert balance_of(suspended) == Decimal("900")


def test_reinstating_lifts_the_suspension_with_an_audit_row(suspended, staff, auth_client, market):
    assert account_reinstate(user_id=suspended.pk, reason="False alarm", staff_id=staff.pk)

    assert auth_client.post(BETS, payload(market), format="json").status_code == 201
    assert not User.objects.get(pk=suspended.pk).is_suspended
    assert list(AbuseAction.objects.order_by("id").values_list("kind", flat=True)) == ["suspend", "reinstate"]
    assert not account_reinstate(user_id=suspended.pk, reason="again", staff_id=staff.pk)


def test_a_purchase_charged_before_the_suspension_is_still_credited(user, staff):
    class Deferred(PaymentProvider):
        name = "deferred"

        def charge(self, *, purchase):
            return ChargeResult(status=Charge.PENDING, reference="later-1")

    pending = purchase_create(
        user_id=user.pk, package_id=CreditPackageFactory(credits=Decimal("500")).pk, provider=Deferred()
    )
    account_suspend(user_id=user.pk, reason="review", staff_id=staff.pk)

    purchase_complete(purchase_id=pending.purchase.pk)

    assert balance_of(user) == Decimal("1500")
    assert_ledger_reconciles()
