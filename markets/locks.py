"""Row locks on markets, taken the same way by every writer: bets and sales (shared on Polymarket
markets, exclusive on credits markets, whose market maker each trade moves), resolution, settlement,
corrections, ingestion, staff edits, closing and odds updates (exclusive). Lock order everywhere:
markets (in id order), then bets, then users (economy.locks)."""

from collections.abc import Collection
from uuid import UUID

from django.db import connection

from .errors import MarketNotFound
from .models import Market, MarketType
from .selectors import market_id_parsed

# Namespace of the per-market advisory locks (the second key is a hash of the market id).
_MARKET_LOCK_SPACE = 7_301


def _row_lock(pk: UUID, *, exclusive: bool) -> Market:
    if exclusive:
        market = Market.objects.select_for_update().filter(pk=pk).first()
    elif connection.vendor == "postgresql":
        table = Market._meta.db_table
        market = next(iter(Market.objects.raw(f"SELECT * FROM {table} WHERE id = %s FOR SHARE", [pk])), None)
    else:
        market = Market.objects.filter(pk=pk).first()
    if market is None:
        raise MarketNotFound()
    return market


def market_lock(*, market_id: str | UUID, exclusive: bool) -> Market:
    """The market row, locked until the transaction ends: shared for bets and sales on Polymarket
    markets (they never wait for each other), exclusive for resolution and settlement (they wait for
    those in flight, and bets after them see the market settled).

    On PostgreSQL an advisory lock is taken first: its queue is fair, so a waiting resolution holds
    back new bets instead of being starved by a stream of them (row share locks do not queue).
    SQLite (embedded mode) has no row locks: its IMMEDIATE transactions serialize writers anyway."""
    pk = market_id_parsed(market_id)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            cursor.execute(f"SELECT {function}(%s, hashtext(%s))", [_MARKET_LOCK_SPACE, str(pk)])
    return _row_lock(pk, exclusive=exclusive)


# The fair advisory lock (exclusive on a credits market, shared otherwise) and the row lock of the
# same mode, in one statement: `kind` reads the (immutable) type and takes the advisory lock, then
# the branch of that mode locks the row (a locking clause sits above its join, so the row is locked
# only after `kind`, and so the advisory lock, was evaluated).
_TRADE_LOCK_SQL = """
WITH kind AS MATERIALIZED (
    SELECT id, market_type = %(credits)s AS exclusive,
           CASE WHEN market_type = %(credits)s THEN pg_advisory_xact_lock(%(space)s, hashtext(%(key)s))::text
                ELSE pg_advisory_xact_lock_shared(%(space)s, hashtext(%(key)s))::text END AS locked
    FROM {market} WHERE id = %(pk)s
), shared AS (
    SELECT m.* FROM {market} m JOIN kind ON kind.id = m.id AND NOT kind.exclusive FOR SHARE OF m
), exclusive AS (
    SELECT m.* FROM {market} m JOIN kind ON kind.id = m.id AND kind.exclusive FOR UPDATE OF m
)
SELECT * FROM shared UNION ALL SELECT * FROM exclusive
"""


def market_lock_for_trade(*, market_id: str | UUID) -> Market:
    """The market row for a bet or a cash-out: exclusive on a credits market (each trade moves its
    market maker, so trades on one market take turns), shared on a Polymarket market (its odds are
    mirrored, so bets never wait for each other). A market's type never changes, so on PostgreSQL one
    statement reads it, takes the matching advisory lock and then the row lock: one round trip."""
    pk = market_id_parsed(market_id)
    if connection.vendor != "postgresql":
        market_type = Market.objects.filter(pk=pk).values_list("market_type", flat=True).first()
        if market_type is None:
            raise MarketNotFound()
        return _row_lock(pk, exclusive=market_type == MarketType.CREDITS)
    params = {"credits": MarketType.CREDITS, "space": _MARKET_LOCK_SPACE, "key": str(pk), "pk": pk}
    market = next(iter(Market.objects.raw(_TRADE_LOCK_SQL.format(market=Market._meta.db_table), params)), None)
    if market is None:
        raise MarketNotFound()
    return market


def markets_lock(*, market_ids: Collection[UUID], **filters) -> list[Market]:
    """Lock many markets exclusively, in id order (so two writers can never deadlock), and return
    those matching `filters`. On PostgreSQL the fair advisory locks come first, as in `market_lock`."""
    ordered = sorted({str(market_id) for market_id in market_ids})
    if not ordered:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(id)) FROM unnest(%s::text[]) WITH ORDINALITY AS t(id, n)"
                " ORDER BY n",
                [_MARKET_LOCK_SPACE, ordered],
            )
    return list(Market.objects.select_for_update().filter(pk__in=ordered, **filters).order_by("pk"))
