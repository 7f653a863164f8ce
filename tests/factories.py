from decimal import Decimal

import factory

from accounts.models import User
from accounts.services import user_create
from economy.models import CreditPackage, LedgerKind
from economy.services import ledger_post

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


class CreditPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPackage

    name = factory.Sequence(lambda n: f"Pack {n}")
    credits = Decimal("500")
    price_usd = Decimal("4.99")
    is_active = True
    sort_order = factory.Sequence(lambda n: 1000 + n)
