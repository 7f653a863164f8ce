"""Measure what one hot stock takes: threads buying and selling a single stock (its trades take turns on
the stock's row: each moves its supply and reserve). Service level (`stocks.services`, one database
connection per thread), so it measures the locking and the SQL, not HTTP. Needs DATABASE_URL (and
REDIS_URL). Ends with the ledger audit (balances, and the stock's supply and reserve).

    python -m bench.stocks --threads 8 --trades 2000
"""

import argparse
import uuid
from decimal import Decimal

from bench.threads import django_setup, run_together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--trades", type=int, default=2000, help="trades in all, split between the threads")
    args = parser.parse_args()

    django_setup()

    from accounts.services import user_create
    from economy.services import ledger_audit
    from stocks.models import StockTrade
    from stocks.services import stock_buy, stock_create, stock_sell

    run = uuid.uuid4().hex[:6].upper()
    per_thread = args.trades // args.threads
    stock = stock_create(symbol=f"B{run}", name=f"Bench {run}", base_price=Decimal("10"), slope=Decimal("0.0001"))
    # Each user buys 1 share and sells it back, turn about: 1,000 credits last a user ~90 round trips.
    users = [
        [
            user_create(
                username=f"s{run}_{t}_{n}", email=f"s{run}_{t}_{n}@bench.test", password="x", validate_password=False
            )
            for n in range(per_thread // 100 + 1)
        ]
        for t in range(args.threads)
    ]

    def trade(t: int, n: int) -> None:
        user = users[t][n // 100]
        if n % 2:
            stock_sell(user_id=user.pk, symbol=stock.symbol, shares=Decimal(1))
        else:
            stock_buy(user_id=user.pk, symbol=stock.symbol, shares=Decimal(1))

    timed = run_together(threads=args.threads, per_thread=per_thread, operation=trade)
    done = StockTrade.objects.filter(stock=stock).count()
    print("| threads | trades | trades/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.threads} | {done} | {done / timed.elapsed:.0f} | {timed.percentiles()} |")
    audit = ledger_audit()
    print(f"\nledger mismatches: {len(audit.mismatches)}; audit findings: {len(audit.findings)}")
    if audit.problems or done != per_thread * args.threads:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
