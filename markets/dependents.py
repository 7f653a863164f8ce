"""Questions about a market that only the apps built on top of markets can answer (is it traded?).
They register their answer in their AppConfig.ready(); markets never imports them."""

from collections.abc import Callable, Collection
from uuid import UUID

TradedCheck = Callable[[Collection[UUID]], set[UUID]]
_traded_checks: list[TradedCheck] = []


def register_traded_check(check: TradedCheck) -> None:
    """`check(market_ids)` returns the ids among them that carry trades (bets) and so are frozen."""
    if check not in _traded_checks:
        _traded_checks.append(check)


def markets_traded(market_ids: Collection[UUID]) -> set[UUID]:
    traded: set[UUID] = set()
    for check in _traded_checks:
        traded |= check(market_ids)
    return traded
