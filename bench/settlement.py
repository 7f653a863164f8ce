"""Time the settlement of one market with many pending bets (default 10,000), run by `make bench`.

Seeds through the same doors the product uses: accounts by the registration service, bets debited
through `ledger_post_many`, the outcome through `market_mark_resolved`; then times `market_settle`
and checks that every balance still reconciles with the ledger. Needs DATABASE_URL (and REDIS_URL).
"""

import argparse
import os
import time
import uuid
from decimal import Decimal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bets", type=int, default=10_000)
    parser.add_argument("--bets-per-user", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, help="Bets per transaction (default: the service's).")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thisthat.settings.local")
    import django

    django.setup()
    from accounts.services import user_create
    from betting.models import Bet
    from betting.rules import payout_for
    from betting.services import SETTLEMENT_CHUNK, market_settle
    from economy.models import LedgerKind
    from economy.selectors import users_with_unreconciled_balance
    from economy.services import Posting, ledger_post_many
    from markets.services import market_create_credits, market_mark_resolved

    run = uuid.uuid4().hex[:6]
    amount, odds = Decimal("10"), Decimal("0.5")
    users = [
        user_create(username=f"s{run}_{n}", email=f"s{run}_{n}@bench.test", password="x", validate_password=False)
        for n in range((args.bets + args.bets_per_user - 1) // args.bets_per_user)
    ]
    market = market_create_credits(title=f"Settlement benchmark {run}", this_odds=odds, that_odds=odds)
    bets = [
        Bet(
            user=users[n // args.bets_per_user],
            market=market,
            side="this" if n % 2 else "that",
            amount=amount,
            odds_at_bet=odds,
            potential_payout=payout_for(amount, odds),
        )
        for n in range(args.bets)
    ]
    for start in range(0, len(bets), 2000):
        chunk = Bet.objects.bulk_create(bets[start : start + 2000])
        ledger_post_many(postings=[Posting(bet.user_id, -bet.amount, LedgerKind.BET_PLACED, bet.id) for bet in chunk])
    market_mark_resolved(market_id=market.pk, outcome="this", source="admin")

    started = time.perf_counter()
    summary = market_settle(market_id=market.pk, chunk_size=args.chunk_size or SETTLEMENT_CHUNK)
    elapsed = time.perf_counter() - started

    mismatches = users_with_unreconciled_balance().count()
    print(
        f"| settle a market with {args.bets:,} pending bets ({len(users)} users) | {elapsed:.2f} s "
        f"| {summary.chunks} chunks, {dict(summary.bets)}, {summary.paid} paid; ledger mismatches: {mismatches} |",
        flush=True,
    )
    if mismatches:
        raise SystemExit("the ledger does not reconcile after settlement")


if __name__ == "__main__":
    main()
