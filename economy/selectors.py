from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import LedgerEntry

_MONEY = DecimalField(max_digits=18, decimal_places=2)
HALF_CENT = Decimal("0.005")


def users_with_unreconciled_balance() -> QuerySet:
    """Users whose stored balance differs from the sum of their ledger rows, in one query."""
    ledger_sum = (
        LedgerEntry.objects.filter(user_id=OuterRef("pk"))
        .order_by()
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        get_user_model()
        .objects.annotate(
            ledger_total=Coalesce(Subquery(ledger_sum, output_field=_MONEY), Value(Decimal(0)), output_field=_MONEY)
        )
        .annotate(difference=F("credit_balance") - F("ledger_total"))
        # Compare to the half cent: SQLite (embedded mode) sums decimals as floats.
        .filter(Q(difference__gte=HALF_CENT) | Q(difference__lte=-HALF_CENT))
        .order_by("username")
        .only("id", "username", "email", "credit_balance")
    )
