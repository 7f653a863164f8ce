"""Payment providers for credit packs.

The purchase service talks to a `PaymentProvider` only. A real provider is one more subclass
registered here (and a webhook that calls `services.purchase_complete`); the service stays as it is.
`settings.PAYMENT_PROVIDER` names the provider in use.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .models import Purchase


class Charge(StrEnum):
    COMPLETED = "completed"  # paid now: the credits are posted at once
    PENDING = "pending"  # settled later, by `purchase_complete` (e.g. from a webhook)
    DECLINED = "declined"  # nothing taken: the purchase is refused and not recorded


@dataclass(frozen=True)
class ChargeResult:
    """What a provider did with a charge."""

    status: Charge
    reference: str = ""
    message: str = ""


class PaymentProvider(ABC):
    name: str

    @abstractmethod
    def charge(self, *, purchase: Purchase) -> ChargeResult:
        """Charge `purchase.price_usd` for `purchase`; never raises for a declined payment."""


class ManualProvider(PaymentProvider):
    """Simulated payment (credits have no cash value): every charge succeeds at once."""

    name = "manual"

    def charge(self, *, purchase: Purchase) -> ChargeResult:
        return ChargeResult(status=Charge.COMPLETED, reference=f"manual:{purchase.pk}")


PROVIDERS: dict[str, type[PaymentProvider]] = {ManualProvider.name: ManualProvider}


def payment_provider(name: str | None = None) -> PaymentProvider:
    """The provider called `name`, by default the one `settings.PAYMENT_PROVIDER` names."""
    name = name or settings.PAYMENT_PROVIDER
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"PAYMENT_PROVIDER={name!r} is not one of {sorted(PROVIDERS)} (see economy/payments.py)."
        ) from None
