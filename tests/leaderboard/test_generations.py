"""Standings written as a new generation of the table (issue 12): after a run the live table has the
exact shape the migrations gave it (indexes, constraints, checks, identity), readers see the previous
generation until the run commits, and a reader stuck in a transaction fails the run, not the board."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.utils import timezone

from betting.models import BetStatus
from leaderboard import generations
from leaderboard.models import Period, RankingRun, Standing
from leaderboard.services import ranks_recompute
from tests.factories import UserFactory
from tests.helpers.leaderboard import bet

TABLE = Standing._meta.db_table


def table_shape() -> dict:
    """Everything about the live table that the migrations decided, by name."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [TABLE])
        indexes = dict(cursor.fetchall())
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
            [TABLE],
        )
        constraints = {name: (kind, definition) for name, kind, definition in cursor.fetchall()}
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, is_identity FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            [TABLE],
        )
        columns = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        (sequence,) = cursor.fetchone()
    return {"indexes": indexes, "constraints": constraints, "columns": columns, "sequence": sequence}


def tables_named_next() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE %s", [TABLE + generations.NEXT_SUFFIX + "%"])
        return [name for (name,) in cursor.fetchall()]


def in_own_connection(work):
    """`work` for a thread: its database connection is closed when it ends."""

    def run():
        try:
            work()
        finally:
            connections.close_all()

    return run


def bettors(count: int) -> list:
    """Users each with one settled win placed an hour ago, the later ones staking more."""
    placed = timezone.now() - timedelta(hours=1)
    users = [UserFactory() for _ in range(count)]
    for n, user in enumerate(users):
        bet(user, amount=str(100 + 10 * n), status=BetStatus.WON, placed_at=placed, resolved_at=placed)
    return users


@pytest.mark.django_db
def test_a_run_leaves_the_table_exactly_as_the_migrations_shaped_it_and_no_copy_behind():
    before = table_shape()
    assert set(before["indexes"]) == {
        "leaderboard_standing_pkey",
        "standing_one_per_period_user",
        "standing_pnl_board_idx",
        "standing_volume_board_idx",
    }
    bettors(3)

    ranks_recompute()
    ranks_recompute()

    assert table_shape() == before
    assert tables_named_next() == []
    assert Standing.objects.filter(period=Period.ALL).count() == 3


@pytest.mark.django_db
def test_the_new_generation_keeps_its_constraints_and_accepts_rows_after_the_swap():
    (user,) = bettors(1)
    ranks_recompute()
    row = Standing.objects.get(period=Period.ALL, user=user)

    extra = Standing.objects.create(period=Period.DAY, user=UserFactory(), pnl=0, volume=0, computed_at=timezone.now())
    assert extra.pk != row.pk  # the identity (renamed back at the swap) still numbers new rows
    with pytest.raises(IntegrityError, match="standing_one_per_period_user"), transaction.atomic():
        Standing.objects.create(period=Period.ALL, user=user, pnl=0, volume=0, computed_at=timezone.now())
    with pytest.raises(IntegrityError, match="pnl_rank_check"), transaction.atomic():
        Standing.objects.filter(pk=row.pk).update(pnl_rank=-1)


@pytest.mark.django_db
def test_a_table_with_what_a_copy_would_lose_is_refused_before_any_work():
    bettors(1)
    ranks_recompute()
    before = set(Standing.objects.values_list("period", "user_id", "pnl_rank"))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIEW all_time_board AS SELECT user_id, pnl_rank FROM {TABLE} WHERE period = 'all'")

    with pytest.raises(generations.GenerationRefused, match="view all_time_board"):
        ranks_recompute()

    assert set(Standing.objects.values_list("period", "user_id", "pnl_rank")) == before
    assert tables_named_next() == []


@pytest.mark.django_db
def test_the_new_generation_keeps_the_tables_storage_parameters():
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 90, autovacuum_analyze_scale_factor = 0.02)")
    bettors(1)

    ranks_recompute()

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [TABLE])
        assert cursor.fetchone()[0] == ["fillfactor=90", "autovacuum_analyze_scale_factor=0.02"]


@pytest.mark.django_db(transaction=True)
def test_readers_see_the_previous_generation_until_the_run_commits(monkeypatch):
    first, second = bettors(2)
    ranks_recompute()
    bet(first, amount="5000", status=BetStatus.WON, placed_at=timezone.now(), resolved_at=timezone.now())
    built, release = threading.Event(), threading.Event()
    real_swap = generations.next_generation_swap

    def swap_when_released(cursor, *, table):
        built.set()  # the new generation is written and indexed, not yet live
        assert release.wait(timeout=30)
        real_swap(cursor, table=table)

    monkeypatch.setattr(generations, "next_generation_swap", swap_when_released)
    runner = threading.Thread(target=in_own_connection(ranks_recompute))
    runner.start()
    try:
        assert built.wait(timeout=30)
        during = dict(Standing.objects.filter(period=Period.ALL).values_list("user_id", "pnl_rank"))
    finally:
        release.set()
        runner.join(timeout=30)
    after = dict(Standing.objects.filter(period=Period.ALL).values_list("user_id", "pnl_rank"))

    assert during == {second.pk: 1, first.pk: 2}  # the previous run's board, whole
    assert after == {first.pk: 1, second.pk: 2}
    assert RankingRun.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_reader_holding_the_table_fails_the_run_without_making_other_readers_wait(monkeypatch):
    """The swap asks for the table without waiting and tries again a little later: no reader ever
    queues behind it. Past its attempts the run fails, the live board untouched, and the next succeeds."""
    first, _ = bettors(2)
    ranks_recompute()
    before = set(Standing.objects.values_list("period", "user_id", "pnl_rank"))
    bet(first, amount="5000", status=BetStatus.WON, placed_at=timezone.now(), resolved_at=timezone.now())
    holding, done = threading.Event(), threading.Event()
    reads_between_attempts = []

    def long_reader():
        with transaction.atomic():
            list(Standing.objects.all()[:1])  # holds the table (ACCESS SHARE) until the end
            holding.set()
            assert done.wait(timeout=30)

    def read_instead_of_pausing(seconds):  # between two attempts, another reader comes
        other = threading.Thread(
            target=in_own_connection(lambda: reads_between_attempts.append(Standing.objects.count()))
        )
        other.start()
        other.join(timeout=10)

    monkeypatch.setattr(generations, "SWAP_ATTEMPTS", 3)
    monkeypatch.setattr(generations.time, "sleep", read_instead_of_pausing)
    reader = threading.Thread(target=in_own_connection(long_reader))
    reader.start()
    try:
        assert holding.wait(timeout=30)
        with pytest.raises(OperationalError, match="could not obtain lock"):
            ranks_recompute()
        unchanged = set(Standing.objects.values_list("period", "user_id", "pnl_rank"))
    finally:
        done.set()
        reader.join(timeout=30)

    assert reads_between_attempts == [len(before)] * 2  # answered at once, not queued behind the swap
    assert unchanged == before  # the failed run left the live generation alone
    assert tables_named_next() == []
    assert ranks_recompute() is not None
    assert Standing.objects.get(period=Period.ALL, user=first).pnl_rank == 1
    assert RankingRun.objects.count() == 2
