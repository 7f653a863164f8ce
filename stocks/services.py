"""Virtual stocks: staff listing and halting them, and trades. Every trade is one transaction in a fixed
lock order: the stock row (trades on one stock take turns), then the user through the ledger, then the
user's holding of that stock (only ever written under the stock's lock)."""

import logging
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from activity.models import ActivityKind
from activity.services import activity_record
from economy.models import LedgerKind
from economy.services import ledger_post
from thisthat.errors import ValidationFailed
from thisthat.http import Client
from thisthat.money import CENT

from . import curves
from .errors import InsufficientShares, InvalidTradeAmount, PriceChanged, TradingHalted
from .locks import normalized_symbol, stock_lock, stock_lock_by_id
from .models import (
    BASE_PRICE_MAX,
    BASE_PRICE_MIN,
    SLOPE_MAX,
    SLOPE_MIN,
    SYMBOL_PATTERN,
    CurveShape,
    Holding,
    Stock,
    StockTrade,
    TradeSide,
)
from .selectors import HoldingValue, holding_value, stock_get, stock_has_trades

logger = logging.getLogger(__name__)

MAX_TRADE_SHARES = Decimal("1000000")
MAX_TRADE_CREDITS = Decimal("10000000")
# Fixed from a stock's first trade: its reserve is the integral of this curve at its supply.
CURVE_FIELDS = ("curve", "base_price", "slope")
STAFF_FIELDS = ("symbol", "name", "description", "image_url", *CURVE_FIELDS, "trading_enabled")


# --- staff -----------------------------------------------------------------------------------------
def validate_stock(*, symbol: str, base_price: Decimal, slope: Decimal, curve: str) -> None:
    """The rules the database's constraints also hold, as VALIDATION_ERROR for a form to show."""
    if not re.fullmatch(SYMBOL_PATTERN, symbol):
        raise ValidationFailed.on("symbol", "1 to 10 upper-case letters and digits, starting with a letter.")
    if curve not in CurveShape.values:
        raise ValidationFailed.on("curve", f"One of {', '.join(CurveShape.values)}.")
    if not BASE_PRICE_MIN <= base_price <= BASE_PRICE_MAX or base_price != base_price.quantize(CENT):
        raise ValidationFailed.on("base_price", f"{BASE_PRICE_MIN} to {BASE_PRICE_MAX:,} credits, to the cent.")
    if not SLOPE_MIN <= slope <= SLOPE_MAX:
        raise ValidationFailed.on("slope", f"{SLOPE_MIN} to {SLOPE_MAX}.")


@transaction.atomic
def stock_create(
    *,
    symbol: str,
    name: str,
    base_price: Decimal,
    slope: Decimal,
    curve: str = CurveShape.LINEAR,
    description: str = "",
    image_url: str = "",
    trading_enabled: bool = True,
) -> Stock:
    """List a stock (staff). Its symbol is unique (VALIDATION_ERROR when taken)."""
    symbol = normalized_symbol(symbol)
    validate_stock(symbol=symbol, base_price=base_price, slope=slope, curve=curve)
    try:
        with transaction.atomic():
            stock = Stock.objects.create(
                symbol=symbol,
                name=name,
                description=description,
                image_url=image_url,
                curve=curve,
                base_price=base_price,
                slope=slope,
                trading_enabled=trading_enabled,
            )
    except IntegrityError as exc:
        raise ValidationFailed.on("symbol", f"{symbol} is taken.") from exc
    logger.info("stock listed", extra={"symbol": symbol, "base_price": str(base_price), "slope": str(slope)})
    return stock


@transaction.atomic
def stock_update(*, stock_id: UUID, changes: dict[str, Any]) -> Stock:
    """Staff edits: name, description, image and the trading switch any time; the symbol and the curve
    only until the first trade (the reserve is the integral of the curve it was traded on)."""
    unknown = set(changes) - set(STAFF_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    stock = stock_lock_by_id(stock_id=stock_id)
    if "symbol" in changes:
        changes["symbol"] = normalized_symbol(changes["symbol"])
    fixed = [name for name in ("symbol", *CURVE_FIELDS) if name in changes and changes[name] != getattr(stock, name)]
    if fixed and stock_has_trades(stock_id=stock.pk):
        raise ValidationFailed.on(fixed[0], "This stock has been traded: its symbol and curve are fixed.")
    merged = {name: changes.get(name, getattr(stock, name)) for name in ("symbol", *CURVE_FIELDS)}
    validate_stock(**merged)
    for name, value in changes.items():
        setattr(stock, name, value)
    try:
        with transaction.atomic():
            stock.save(update_fields=list(changes))
    except IntegrityError as exc:
        raise ValidationFailed.on("symbol", f"{stock.symbol} is taken.") from exc
    return stock


@transaction.atomic
def stocks_set_trading(*, stock_ids: Collection[UUID], enabled: bool) -> int:
    """Halt or resume trading (staff). Each stock's lock is taken, so a halt waits for the trades in
    flight and every trade after it is refused with TRADING_HALTED."""
    changed = 0
    for stock_id in sorted(stock_ids, key=str):
        stock = stock_lock_by_id(stock_id=stock_id)
        if stock.trading_enabled != enabled:
            Stock.objects.filter(pk=stock.pk).update(trading_enabled=enabled)
            changed += 1
            logger.info("stock trading switched", extra={"symbol": stock.symbol, "enabled": enabled})
    return changed


# --- pricing ---------------------------------------------------------------------------------------
def _ensure_shares(shares: Decimal) -> None:
    if not 0 < shares <= MAX_TRADE_SHARES or shares != shares.quantize(curves.SHARE_STEP):
        raise InvalidTradeAmount(details={"shares": shares})


def _ensure_credits(credits: Decimal) -> None:
    if not 0 < credits <= MAX_TRADE_CREDITS or credits != credits.quantize(CENT):
        raise InvalidTradeAmount(details={"credits": credits})


def _ensure_amount(side: str, shares: Decimal | None, credits: Decimal | None) -> None:
    """Shares or, for a buy only, credits: exactly one of them."""
    if side == TradeSide.SELL and (credits is not None or shares is None):
        raise ValidationFailed.on("shares", "A sale is given in shares.")
    if (shares is None) == (credits is None):
        raise ValidationFailed.on("shares", "Give either shares or credits.")
    if shares is not None:
        _ensure_shares(shares)
    else:
        _ensure_credits(credits)


def _ensure_trading(stock: Stock) -> None:
    if not stock.trading_enabled:
        raise TradingHalted(details={"symbol": stock.symbol})


def _held(*, user_id: UUID, stock: Stock) -> Holding | None:
    return Holding.objects.filter(user_id=user_id, stock=stock).first()


def _priced(
    stock: Stock,
    side: str,
    *,
    shares: Decimal | None,
    credits: Decimal | None,
    held: Decimal,
    max_price: Decimal | None,
    min_proceeds: Decimal | None,
) -> curves.Trade:
    """The trade at the stock's current supply, with every refusal but the ledger's (balance, cap,
    suspension): the same for a quote and a trade."""
    curve, fee_rate = stock.curve_function(), settings.STOCK_FEE_RATE
    if side == TradeSide.BUY:
        if shares is not None:
            trade = curves.buy(curve, stock.supply, shares, fee_rate=fee_rate)
        else:
            trade = curves.buy_with(curve, stock.supply, credits, fee_rate=fee_rate)
            if trade is None:
                raise InvalidTradeAmount(
                    "This budget buys less than 0.01 of a share.",
                    details={"credits": credits, "price": curve.price(stock.supply)},
                )
        if max_price is not None and trade.average_price > max_price:
            raise PriceChanged(
                details={
                    "averagePrice": _price_out(trade.average_price),
                    "maxPrice": max_price,
                    "credits": trade.credits,
                }
            )
        return trade
    if shares > held:
        raise InsufficientShares(details={"held": held, "shares": shares})
    trade = curves.sell(curve, stock.supply, shares, fee_rate=fee_rate)
    if trade.credits <= 0:
        raise InvalidTradeAmount("This sale is too small to pay a cent.", details={"shares": shares})
    if min_proceeds is not None and trade.credits < min_proceeds:
        raise PriceChanged(details={"proceeds": trade.credits, "minProceeds": min_proceeds})
    return trade


def _price_out(price: Decimal) -> Decimal:
    return price.quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class StockQuote:
    symbol: str
    side: str
    trade: curves.Trade
    fee_rate: Decimal


def stock_quote(
    *,
    user_id: UUID,
    symbol: str,
    side: str,
    shares: Decimal | None = None,
    credits: Decimal | None = None,
    max_price: Decimal | None = None,
    min_proceeds: Decimal | None = None,
) -> StockQuote:
    """What `stock_buy` or `stock_sell` with the same arguments would do now, with the same refusals
    except the ledger's (balance, balance cap, suspension); nothing is written or locked."""
    _ensure_amount(side, shares, credits)
    stock = stock_get(symbol=symbol)
    _ensure_trading(stock)
    held = Decimal(0)
    if side == TradeSide.SELL:
        holding = _held(user_id=user_id, stock=stock)
        held = holding.shares if holding else Decimal(0)
    trade = _priced(
        stock, side, shares=shares, credits=credits, held=held, max_price=max_price, min_proceeds=min_proceeds
    )
    return StockQuote(symbol=stock.symbol, side=side, trade=trade, fee_rate=settings.STOCK_FEE_RATE)


# --- trades ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StockTraded:
    trade: StockTrade
    holding: HoldingValue
    new_balance: Decimal


def _shares_text(shares: Decimal) -> str:
    return f"{shares:,.2f}".rstrip("0").rstrip(".")


def _description(stock: Stock, trade: curves.Trade) -> str:
    verb = "Bought" if trade.side == TradeSide.BUY else "Sold"
    text = f"{verb} {_shares_text(trade.shares)} {stock.symbol} ({stock.name}) at {trade.average_price:,.2f} each"
    return (f"{text}, fee {trade.fee:,.2f}" if trade.fee else text)[:255]


def _trade_record(
    *, stock: Stock, user_id: UUID, trade: curves.Trade, holding: Holding | None, client: Client | None
) -> StockTraded:
    """Post the trade's credits through the ledger (which refuses a suspended account, a balance too
    small for a buy and, for a sale, one pushed over MAX_CREDIT_BALANCE), then move the holding and
    the stock, and write the trade row."""
    trade_id, now = uuid.uuid4(), timezone.now()
    buying = trade.side == TradeSide.BUY
    entry = ledger_post(
        user_id=user_id,
        amount=-trade.credits if buying else trade.credits,
        kind=LedgerKind.STOCK_BUY if buying else LedgerKind.STOCK_SELL,
        reference_id=trade_id,
        description=_description(stock, trade),
        enforce_cap=not buying,
    )
    holding = holding or Holding(user_id=user_id, stock=stock)
    realized_pnl = None
    if buying:
        holding.shares += trade.shares
        holding.cost_basis += trade.credits
    else:
        kept = holding.shares - trade.shares
        basis_after = (holding.cost_basis * kept / holding.shares).quantize(CENT, ROUND_HALF_UP) if kept else Decimal(0)
        realized_pnl = trade.credits - (holding.cost_basis - basis_after)
        holding.shares, holding.cost_basis = kept, basis_after
    holding.updated_at = now
    holding.save()
    sequence = stock.trades_count + 1
    Stock.objects.filter(pk=stock.pk).update(
        supply=trade.supply_after,
        reserve=trade.reserve_after,
        house_take=F("house_take") + trade.house_take,
        trades_count=sequence,
    )
    stock.supply, stock.reserve, stock.trades_count = trade.supply_after, trade.reserve_after, sequence
    record = StockTrade.objects.create(
        id=trade_id,
        stock=stock,
        user_id=user_id,
        sequence=sequence,
        side=trade.side,
        shares=trade.shares,
        credits=trade.credits,
        fee=trade.fee,
        supply_after=trade.supply_after,
        price_after=trade.price_after,
        realized_pnl=realized_pnl,
        created_at=now,
    )
    activity_record(kind=ActivityKind.STOCK_TRADE, user_id=user_id, client=client, reference_id=trade_id, at=now)
    log = {"trade_id": str(trade_id), "user_id": str(user_id), "symbol": stock.symbol, "side": trade.side}
    log |= {"shares": str(trade.shares), "credits": str(trade.credits), "supply_after": str(trade.supply_after)}
    transaction.on_commit(lambda: logger.info("stock traded", extra=log), robust=True)
    return StockTraded(trade=record, holding=holding_value(holding, stock), new_balance=entry.balance_after)


@transaction.atomic
def stock_buy(
    *,
    user_id: UUID,
    symbol: str,
    shares: Decimal | None = None,
    credits: Decimal | None = None,
    max_price: Decimal | None = None,
    client: Client | None = None,
) -> StockTraded:
    """Buy `shares`, or as many hundredths of a share as `credits` pays for, at the curve's price over
    them (rounded up to the cent, plus the fee). `max_price` refuses (PRICE_CHANGED) a buy whose
    average price per share would be higher."""
    _ensure_amount(TradeSide.BUY, shares, credits)
    stock = stock_lock(symbol=symbol)
    _ensure_trading(stock)
    trade = _priced(
        stock, TradeSide.BUY, shares=shares, credits=credits, held=Decimal(0), max_price=max_price, min_proceeds=None
    )
    return _trade_record(
        stock=stock, user_id=user_id, trade=trade, holding=_held(user_id=user_id, stock=stock), client=client
    )


@transaction.atomic
def stock_sell(
    *,
    user_id: UUID,
    symbol: str,
    shares: Decimal,
    min_proceeds: Decimal | None = None,
    client: Client | None = None,
) -> StockTraded:
    """Sell `shares` of the caller's holding back at the curve's price down over them (rounded down to
    the cent, minus the fee). INSUFFICIENT_SHARES beyond the holding; `min_proceeds` refuses
    (PRICE_CHANGED) a sale that would pay less."""
    _ensure_amount(TradeSide.SELL, shares, None)
    stock = stock_lock(symbol=symbol)
    _ensure_trading(stock)
    holding = _held(user_id=user_id, stock=stock)
    trade = _priced(
        stock,
        TradeSide.SELL,
        shares=shares,
        credits=None,
        held=holding.shares if holding else Decimal(0),
        max_price=None,
        min_proceeds=min_proceeds,
    )
    return _trade_record(stock=stock, user_id=user_id, trade=trade, holding=holding, client=client)
