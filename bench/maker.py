"""Measure what one hot market takes: threads placing bets on a single credits market (its market maker
serialises them on the market row) and, for comparison, on a single Polymarket market (bets share the
row lock). Service level (`betting.services.bet_place`, one database connection per thread), so it
measures the locking and the SQL, not HTTP. Needs DATABASE_URL (and REDIS_URL).

    python -m bench.maker --threads 8 --bets 2000
"""

import argparse
import uuid
from decimal import Decimal

from bench.threads import django_setup, run_together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--bets", type=int, default=2000, help="bets per market, split between the threads")
    parser.add_argument("--liquidity", default="100000", help="the credits market's liquidity b")
    args = parser.parse_args()

    django_setup()
    from django.utils import timezone

    from accounts.services import user_create
    from betting.models import Bet
    from betting.services import bet_place
    from economy.selectors import users_with_unreconciled_balance
    from markets.models import Market, MarketType
    from markets.services import market_create_credits

    run = uuid.uuid4().hex[:6]
    per_thread = args.bets // args.threads
    users_per_thread = per_thread // 90 + 1  # 1,000 credits each, 10 a bet
    users = [
        [
            user_create(
                username=f"m{run}_{t}_{n}", email=f"m{run}_{t}_{n}@bench.test", password="x", validate_password=False
            )
            for n in range(users_per_thread * 2)  # one set per market
        ]
        for t in range(args.threads)
    ]
    credits = market_create_credits(
        title=f"Hot credits market {run}",
        this_odds=Decimal("0.5"),
        that_odds=Decimal("0.5"),
        maker_liquidity=Decimal(args.liquidity),
    )
    mirrored = Market.objects.create(
        market_type=MarketType.POLYMARKET,
        polymarket_id=f"0x{uuid.uuid4().hex}{uuid.uuid4().hex}",
        title=f"Hot Polymarket market {run}",
        this_odds=Decimal("0.5"),
        that_odds=Decimal("0.5"),
        odds_updated_at=timezone.now(),
    )
    print("| market | threads | bets | bets/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for offset, market in ((0, credits), (users_per_thread, mirrored)):

        def bet(t: int, n: int, market=market, offset=offset) -> None:
            user = users[t][offset + n // 90]
            bet_place(user_id=user.pk, market_id=market.pk, side="this" if n % 2 else "that", amount=Decimal(10))

        timed = run_together(threads=args.threads, per_thread=per_thread, operation=bet)
        placed = Bet.objects.filter(market=market).count()
        print(
            f"| {market.market_type} | {args.threads} | {placed} | {placed / timed.elapsed:.0f} | "
            f"{timed.percentiles()} |"
        )
    credits.refresh_from_db()
    shares = {
        side: sum(Bet.objects.filter(market=credits, side=side).values_list("potential_payout", flat=True))
        for side in ("this", "that")
    }
    lost = (credits.maker_this_shares, credits.maker_that_shares) != (shares["this"], shares["that"])
    mismatches = users_with_unreconciled_balance().count()
    print(f"\ncredits market maker: every bet's shares accounted for: {not lost}; ledger mismatches: {mismatches}")
    if lost or mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
