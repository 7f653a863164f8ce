"""Time the rank recomputation at scale, run by `make bench`.

Seeds synthetic users and settled bets straight into the tables (balances stay at 0 with no ledger
rows, so the ledger still reconciles): about 60 % of users bet, 10 bets each on average, placed and
settled over the last 60 days. Then times `ranks_recompute` at each requested size: the first run,
the next one with nothing changed, and one after 300 new bets (a third of them won or sold), which
moves most places and so rewrites most standings and profile ranks.
"""

import argparse
import os
import random
import time
import uuid
from datetime import timedelta
from decimal import Decimal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="total user counts to time, ascending")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thisthat.settings.local")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from betting.models import Bet, BetStatus
    from leaderboard.services import ranks_recompute
    from markets.services import market_create_credits

    user_model = get_user_model()
    rng = random.Random(7)
    now = timezone.now()
    password = make_password(None)
    market = market_create_credits(title=f"Leaderboard benchmark {uuid.uuid4().hex[:6]}", this_odds=Decimal("0.5"),
                                   that_odds=Decimal("0.5"))  # fmt: skip
    seeded = user_model.objects.count()
    for size in (int(size) for size in args.sizes.split(",")):
        started = time.perf_counter()
        bets = 0
        while seeded < size:
            batch = min(5000, size - seeded)
            users = user_model.objects.bulk_create(
                user_model(
                    username=f"lb{seeded + n}_{uuid.uuid4().hex[:6]}",
                    email=f"lb{seeded + n}_{uuid.uuid4().hex[:6]}@bench.test",
                    password=password,
                    referral_code=uuid.uuid4().hex[:12].upper(),
                )
                for n in range(batch)
            )
            rows = []
            for user in users:
                if rng.random() > 0.6:
                    continue
                for _ in range(rng.randint(1, 19)):
                    amount = Decimal(rng.randrange(10, 500))
                    placed = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
                    status = rng.choice(
                        [BetStatus.WON, BetStatus.LOST, BetStatus.LOST, BetStatus.SOLD, BetStatus.PENDING]
                    )
                    payout = {
                        BetStatus.WON: amount * 2,
                        BetStatus.LOST: Decimal(0),
                        BetStatus.SOLD: amount * Decimal("1.1"),
                    }
                    settled = status != BetStatus.PENDING
                    rows.append(
                        Bet(
                            user=user, market=market, side="this", amount=amount, odds_at_bet=Decimal("0.5"),
                            potential_payout=amount * 2, status=status, placed_at=placed,
                            actual_payout=payout.get(status) if settled else None,
                            resolved_at=min(placed + timedelta(hours=rng.randrange(1, 72)), now) if settled else None,
                        )
                    )  # fmt: skip
            Bet.objects.bulk_create(rows, batch_size=5000)
            bets += len(rows)
            seeded += batch
        seeding = time.perf_counter() - started
        result = ranks_recompute()
        # The steady state: the next run, with the standings in place, writes only what changed.
        again = ranks_recompute()
        bettors = rng.sample(list(user_model.objects.values_list("pk", flat=True)), 300)
        Bet.objects.bulk_create(_fresh_bet(rng, user_id, market, now=timezone.now()) for user_id in bettors)
        active = ranks_recompute()
        total_bets = Bet.objects.count()
        print(
            f"| recompute ranks: {seeded:,} users, {total_bets:,} bets | {result.duration_seconds:.2f} s "
            f"| seeded {bets:,} bets in {seeding:.0f} s; the next run {again.duration_seconds:.2f} s, "
            f"after 300 new bets {active.duration_seconds:.2f} s |",
            flush=True,
        )


def _fresh_bet(rng, user_id, market, *, now):
    """A bet placed now: pending, or won or sold at once."""
    from betting.models import Bet, BetStatus

    amount = Decimal(rng.randrange(10, 500))
    status = rng.choice([BetStatus.PENDING, BetStatus.PENDING, BetStatus.WON, BetStatus.SOLD])
    payout = {BetStatus.WON: amount * 2, BetStatus.SOLD: amount * Decimal("1.1")}.get(status)
    return Bet(
        user_id=user_id, market=market, side="this", amount=amount, odds_at_bet=Decimal("0.5"),
        potential_payout=amount * 2, status=status, placed_at=now, actual_payout=payout,
        resolved_at=now if payout is not None else None,
    )  # fmt: skip


if __name__ == "__main__":
    main()
