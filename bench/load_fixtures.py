"""The Django side of `make loadtest` (bench/loadtest.py runs it with the server's environment).

    python -m bench.load_fixtures seed --out FILE [--users 500 ...]
    python -m bench.load_fixtures verify --ids-dir DIR --told FILE

`seed` fills the freshly migrated database (the Polymarket markets are already ingested from the
stand-in) through the product's services where a request would go through them: accounts by the
registration service with a staff credit adjustment on top, credits markets by the staff service,
pending bets for sale debited through `ledger_post_many`, a ranking run. Only the leaderboard
population is bulk-inserted (users with settled bets and no ledger rows, as bench/leaderboard.py
does: balances stay 0 and reconcile). It writes the ids and access tokens the scenarios need.

`verify` compares what the clients were told with the database: every bet a client saw placed (201)
or sold (200) exists exactly once with exactly one ledger posting, nothing else happened except
what requests without an answer may have done, and the daily claims match their rows.
"""

import argparse
import json
import os
import random
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

LOGIN_PASSWORD = "load-Passw0rd-2026"
STAKE = Decimal("10")  # the minimum bet


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thisthat.settings.production")
    import django

    django.setup()


def seed(args: argparse.Namespace) -> None:
    _setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.services import user_create
    from accounts.tokens import token_pair_issue
    from betting.models import Bet, BetStatus
    from betting.rules import payout_for
    from economy.models import LedgerKind
    from economy.services import Posting, credit_adjust, ledger_post_many
    from leaderboard.services import ranks_recompute
    from markets.models import Market, MarketStatus, MarketType
    from markets.services import market_create_credits, market_mark_resolved

    started = time.perf_counter()
    rng = random.Random(12)
    user_model = get_user_model()

    def token(user) -> str:
        # A sign-in of its own, as a login makes: the API refuses access tokens without a session.
        return token_pair_issue(user=user).access_token

    staff = user_create(username="loadstaff", email="loadstaff@bench.test", password=None, is_staff=True)
    users = [
        user_create(username=f"load{n}", email=f"load{n}@bench.test", password=None, validate_password=False)
        for n in range(args.users)
    ]
    for user in users:
        credit_adjust(user_id=user.pk, amount=Decimal(args.float), reason="load test float", staff_id=staff.pk)
    login_users = [
        user_create(
            username=f"loadlogin{n}", email=f"loadlogin{n}@bench.test", password=LOGIN_PASSWORD, validate_password=False
        )
        for n in range(args.login_users)
    ]
    categories = ["Politics", "Crypto", "Sports", "Tech", "Economy", "Culture"]
    for n in range(args.credits_markets):
        odds = Decimal(30 + (n * 7) % 40) / 100
        market_create_credits(
            title=f"Load test credits market {n}: will it resolve THIS?",
            this_odds=odds,
            that_odds=1 - odds,
            category=categories[n % len(categories)],
            expires_at=timezone.now() + timedelta(days=30),
        )

    # Markets a bet or a sale can use for the whole run: open, odds well inside [0.01, 0.99].
    soon = timezone.now() + timedelta(days=1)
    tradable = [
        market
        for market in Market.objects.filter(status=MarketStatus.OPEN).order_by("-volume", "id")
        if market.this_odds is not None
        and Decimal("0.1") <= market.this_odds <= Decimal("0.9")
        and Decimal("0.1") <= market.that_odds <= Decimal("0.9")
        and (market.expires_at is None or market.expires_at > soon)
    ]
    if not tradable:
        raise SystemExit("no tradable market: did the ingestion from the stand-in run?")
    hot = next((m for m in tradable if m.market_type == MarketType.POLYMARKET), tradable[0])

    # Pending bets to cash out, interleaved across users so consecutive sales touch different users.
    bets = []
    for _ in range(args.sell_bets_per_user):
        for user in users:
            market = rng.choice(tradable)
            side = rng.choice(["this", "that"])
            odds = market.odds_for(side)
            bets.append(
                Bet(user=user, market=market, side=side, amount=STAKE, odds_at_bet=odds,
                    potential_payout=payout_for(STAKE, odds))
            )  # fmt: skip
    for start in range(0, len(bets), 2000):
        chunk = Bet.objects.bulk_create(bets[start : start + 2000])
        ledger_post_many(postings=[Posting(bet.user_id, -bet.amount, LedgerKind.BET_PLACED, bet.id) for bet in chunk])

    # The leaderboard population: users with settled history on a resolved market.
    history = market_create_credits(title="Load test history", this_odds=Decimal("0.5"), that_odds=Decimal("0.5"))
    market_mark_resolved(market_id=history.pk, outcome="this", source="admin", resolved_by_id=staff.pk)
    now = timezone.now()
    password = make_password(None)
    board_users = []
    for start in range(0, args.board_users, 5000):
        batch = user_model.objects.bulk_create(
            user_model(username=f"board{n}", email=f"board{n}@bench.test", password=password,
                       referral_code=f"BOARD{n:011d}")
            for n in range(start, min(start + 5000, args.board_users))
        )  # fmt: skip
        rows = []
        for user in batch:
            for _ in range(rng.randint(1, 5)):
                amount = Decimal(rng.randrange(10, 500))
                placed = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
                status = rng.choice([BetStatus.WON, BetStatus.LOST, BetStatus.LOST, BetStatus.SOLD])
                payout = {
                    BetStatus.WON: amount * 2,
                    BetStatus.LOST: Decimal(0),
                    BetStatus.SOLD: amount * Decimal("1.1"),
                }
                rows.append(
                    Bet(user=user, market=history, side="this", amount=amount, odds_at_bet=Decimal("0.5"),
                        potential_payout=amount * 2, status=status, placed_at=placed, actual_payout=payout[status],
                        resolved_at=min(placed + timedelta(hours=rng.randrange(1, 72)), now))
                )  # fmt: skip
        Bet.objects.bulk_create(rows, batch_size=5000)
        board_users += batch
    run = ranks_recompute()

    tokens = {user.pk: token(user) for user in users}
    fixtures = {
        "users": [{"id": str(user.pk), "token": tokens[user.pk]} for user in users],
        "login_users": [{"email": user.email, "password": LOGIN_PASSWORD} for user in login_users],
        "claim_tokens": [token(user) for user in board_users],
        "markets": [str(pk) for pk in Market.objects.filter(status=MarketStatus.OPEN).values_list("pk", flat=True)],
        "tradable_markets": [str(market.pk) for market in tradable],
        "hot_market": str(hot.pk),
        "sale_bets": [{"token": tokens[bet.user_id], "id": str(bet.pk)} for bet in bets],
        "board_total": user_model.objects.count(),
        "seeded_at": timezone.now().isoformat(),
    }
    Path(args.out).write_text(json.dumps(fixtures))
    print(
        f"seeded {len(users)} users (+{len(login_users)} with a password, {len(board_users):,} on the boards), "
        f"{len(fixtures['markets'])} open markets ({len(tradable)} tradable; hot: {hot.market_type} {hot.pk}), "
        f"{len(bets):,} pending bets for sale; ranking run in {run.duration_seconds:.2f} s; "
        f"{time.perf_counter() - started:.0f} s in all",
        flush=True,
    )


def verify(args: argparse.Namespace) -> None:
    _setup_django()
    from datetime import datetime

    from betting.models import Bet, BetStatus
    from economy.models import DailyReward, LedgerEntry, LedgerKind

    from .loadreport import counted_once, exactly_once

    answers = json.loads(Path(args.told).read_text())
    since = datetime.fromisoformat(answers["seeded_at"])

    def ids(pattern: str) -> list[str]:
        return [line for path in sorted(Path(args.ids_dir).glob(pattern)) for line in path.read_text().split()]

    def posted_once(kind: str, bet_ids: set[str]) -> bool:
        entries = LedgerEntry.objects.filter(kind=kind, reference_id__in=bet_ids).values_list("reference_id", flat=True)
        return sorted(str(pk) for pk in entries) == sorted(bet_ids)

    placed = {str(pk) for pk in Bet.objects.filter(placed_at__gt=since).values_list("pk", flat=True)}
    sold = {
        str(pk) for pk in Bet.objects.filter(status=BetStatus.SOLD, resolved_at__gt=since).values_list("pk", flat=True)
    }
    rewards = DailyReward.objects.count()
    checks = [
        exactly_once("bets placed (201)", told=ids("bets-*"), stored=placed, allowed_unseen=answers["bets_unanswered"]),
        exactly_once("bets sold (200)", told=ids("sells-*"), stored=sold, allowed_unseen=answers["sells_unanswered"]),
        counted_once(
            "daily rewards (201)",
            told=answers["claims_ok"],
            stored=rewards,
            allowed_unseen=answers["claims_unanswered"],
        ),
    ]
    ledger = [
        ("one bet_placed posting per placed bet", posted_once(LedgerKind.BET_PLACED, placed)),
        ("one bet_sale posting per sold bet", posted_once(LedgerKind.BET_SALE, sold)),
        (
            "one daily_reward posting per reward",
            LedgerEntry.objects.filter(kind=LedgerKind.DAILY_REWARD).count() == rewards,
        ),
    ]
    for check in checks:
        print(check.describe())
    for name, passed in ledger:
        print(f"{'PASS' if passed else 'FAIL'} {name}")
    if not all(check.passed for check in checks) or not all(passed for _, passed in ledger):
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed")
    seeding.add_argument("--out", required=True)
    seeding.add_argument("--users", type=int, default=500)
    seeding.add_argument("--login-users", type=int, default=20)
    seeding.add_argument("--board-users", type=int, default=20_000)
    seeding.add_argument("--credits-markets", type=int, default=12)
    seeding.add_argument("--sell-bets-per-user", type=int, default=30)
    seeding.add_argument("--float", type=int, default=100_000, help="credits each betting user gets on top")
    checking = commands.add_parser("verify")
    checking.add_argument("--ids-dir", required=True)
    checking.add_argument("--told", required=True, help="JSON: seeded_at, claims_ok, {bets,sells,claims}_unanswered")
    args = parser.parse_args()
    {"seed": seed, "verify": verify}[args.command](args)


if __name__ == "__main__":
    main()
