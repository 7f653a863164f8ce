"""Questions about markets that only the apps built on top of markets can answer (is a market traded?
does it carry open positions?). Those apps register their answers in AppConfig.ready(); markets
never imports them (README "Layers")."""

from collections.abc import Callable, Collection
from functools import reduce
from operator import or_
from uuid import UUID

from django.db.models import BooleanField, Exists, ExpressionWrapper, Q, Value

TradedCheck = Callable[[Collection[UUID]], set[UUID]]
OpenPositions = Callable[[], Exists]  # true for the market at OuterRef("pk") while it has open positions

_traded_checks: list[TradedCheck] = []
_open_positions: list[OpenPositions] = []


def register_traded_check(check: TradedCheck) -> None:
    """`check(market_ids)` returns the ids among them that carry trades (bets) and so are frozen."""
    if check not in _traded_checks:
        _traded_checks.append(check)


def register_open_positions(expression: OpenPositions) -> None:
    if expression not in _open_positions:
        _open_positions.append(expression)


def markets_traded(market_ids: Collection[UUID]) -> set[UUID]:
    traded: set[UUID] = set()
    for check in _traded_checks:
        traded |= check(market_ids)
    return traded


def has_open_positions() -> ExpressionWrapper | Value:
    """An annotation: does the market carry open positions (pending bets) in any app?"""
    if not _open_positions:
        return Value(False)
    condition = reduce(or_, (Q(expression()) for expression in _open_positions))
    return ExpressionWrapper(condition, output_field=BooleanField())
