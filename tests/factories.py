from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.services import user_create
from economy.models import CreditPackage, LedgerKind
from economy.services import ledger_post
from markets.maker import maker_start
from markets.models import Market, MarketStatus, MarketType
from stocks.models import Stock

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A registered user, created through the registration service (signup bonus on the ledger).

    `UserFactory(balance=Decimal("50"))` adjusts the balance through the ledger afterwards.
    """

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user_{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = DEFAULT_PASSWORD
    is_staff = False

    @classmethod
    def _create(cls, model_class, *args, balance: Decimal | None = None, **kwargs):
        user = user_create(validate_password=False, **kwargs)
        if balance is not None and balance != user.credit_balance:
            ledger_post(user_id=user.pk, amount=balance - user.credit_balance, kind=LedgerKind.ADMIN_ADJUSTMENT)
            user.refresh_from_db()
        return user


class MarketFactory(factory.django.DjangoModelFactory):
    """An open Polymarket market with CLOB tokens and odds; `market_type=MarketType.CREDITS` for staff-run
    (its market maker starts at `this_odds` with liquidity `maker_liquidity`, 1,000 by default)."""

    class Meta:
        model = Market

    market_type = MarketType.POLYMARKET
    polymarket_id = factory.LazyAttributeSequence(lambda o, n: f"0x{n:064x}" if o.is_polymarket else None)
    polymarket_gamma_id = factory.LazyAttributeSequence(lambda o, n: str(500000 + n) if o.is_polymarket else "")
    this_token_id = factory.LazyAttributeSequence(lambda o, n: f"{n}1" * 8 if o.is_polymarket else "")
    that_token_id = factory.LazyAttributeSequence(lambda o, n: f"{n}2" * 8 if o.is_polymarket else "")
    title = factory.Sequence(lambda n: f"Will event {n} happen by 2027?")
    slug = factory.LazyAttribute(lambda o: slugify(o.title))
    description = "Resolves Yes if the event happens."
    this_odds = Decimal("0.6500")
    that_odds = Decimal("0.3500")
    liquidity = Decimal("1000.00")
    volume = Decimal("50000.00")
    volume_24h = Decimal("1000.00")
    category = "Politics"
    category_slug = factory.LazyAttribute(lambda o: slugify(o.category))
    status = MarketStatus.OPEN
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    odds_updated_at = factory.LazyFunction(timezone.now)
    maker_liquidity = factory.LazyAttribute(lambda o: None if o.is_polymarket else Decimal("1000"))
    maker_this_shares = factory.LazyAttribute(lambda o: None if o.is_polymarket else o.maker.this_shares)
    maker_that_shares = factory.LazyAttribute(lambda o: None if o.is_polymarket else o.maker.that_shares)

    class Params:
        is_polymarket = factory.LazyAttribute(lambda o: o.market_type == MarketType.POLYMARKET)
        maker = factory.LazyAttribute(
            lambda o: (
                None
                if o.is_polymarket
                else maker_start(liquidity=o.maker_liquidity, this_odds=o.this_odds / (o.this_odds + o.that_odds))
            )
        )


class CreditPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPackage

    name = factory.Sequence(lambda n: f"Pack {n}")
    credits = Decimal("500")
    price_usd = Decimal("4.99")
    is_active = True
    sort_order = factory.Sequence(lambda n: 1000 + n)


class StockFactory(factory.django.DjangoModelFactory):
    """A listed stock on a linear curve: 10 credits at supply 0, +0.01 per share outstanding."""

    class Meta:
        model = Stock

    symbol = factory.Sequence(lambda n: f"S{n}")
    name = factory.LazyAttribute(lambda o: f"{o.symbol} Inc.")
    description = "A virtual stock."
    base_price = Decimal("10")
    slope = Decimal("0.01")
