"""A derived table rebuilt whole as a new generation (PostgreSQL), for rewrites that touch most rows.

When most rows change (a new bet moves the place of everyone below it), rewriting them in place costs
a new entry in every index per row plus the dead rows left behind. A new generation is written into
a plain copy of the table with no index, its indexes are built once over the finished rows (a sort,
not 100,000 insertions), and it takes the live table's name in one short step. All of it runs in the
caller's transaction: readers see the previous generation until it commits, then the new one, never
a half-written table.

The copy has the live table's columns, defaults, identity, checks, storage parameters, unique and
primary-key constraints and indexes as the migrations left them, so a migration of those needs no
change here. What a copy would lose (foreign keys from or to the table, triggers, views on it) is
refused before any work. The new generation has no planner statistics until autovacuum analyses it:
the index builds record its row count, which is all the board's index scans need.
"""

import time
from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.db.backends.utils import CursorWrapper

NEXT_SUFFIX = "_next"
_MAX_NAME = 63  # PostgreSQL truncates longer names
# The swap needs the live table to itself, so it asks without waiting (NOWAIT) and tries again in a
# moment: readers never queue behind it (every authenticated request that loads its user reads this
# table), and a reader stuck in a long transaction fails this run (the next one retries) after
# SWAP_ATTEMPTS x SWAP_PAUSE_SECONDS.
SWAP_ATTEMPTS = 40
SWAP_PAUSE_SECONDS = 0.05


class GenerationRefused(Exception):
    """The table has something a copy would not carry over."""


@dataclass(frozen=True)
class _Index:
    name: str
    definition: str  # after "USING", e.g. "btree (period, pnl_position)"
    constraint: str  # the constraint's definition, e.g. "UNIQUE (period, user_id)", or "" for a plain index
    unique: bool


def _indexes(cursor: CursorWrapper, table: str) -> list[_Index]:
    cursor.execute(
        """
        SELECT c.relname, split_part(pg_get_indexdef(i.indexrelid), ' USING ', 2),
               COALESCE(pg_get_constraintdef(con.oid), ''), i.indisunique
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
        WHERE i.indrelid = %s::regclass
        ORDER BY c.relname
        """,
        [table],
    )
    return [_Index(*row) for row in cursor.fetchall()]


# Foreign keys from or to the table, its own triggers, and views (or rules) that depend on it.
_NOT_COPIED_SQL = """
SELECT 'foreign key ' || conname FROM pg_constraint
WHERE contype = 'f' AND (conrelid = %(table)s::regclass OR confrelid = %(table)s::regclass)
UNION ALL
SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = %(table)s::regclass AND NOT tgisinternal
UNION ALL
SELECT 'view ' || v.relname FROM pg_depend d
JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
WHERE d.refobjid = %(table)s::regclass AND d.classid = 'pg_rewrite'::regclass AND v.oid <> %(table)s::regclass
"""


def generation_lock(cursor: CursorWrapper, *, table: str) -> None:
    """Hold the table against migrations (and another run) until the caller's transaction ends, without
    blocking its readers. First in the transaction, so the snapshot of a repeatable-read run is taken
    after any migration in flight has committed."""
    cursor.execute(f'LOCK TABLE "{table}" IN SHARE UPDATE EXCLUSIVE MODE')


def next_generation_create(cursor: CursorWrapper, *, table: str) -> str:
    """An empty copy of `table` without indexes, to fill; returns its name."""
    cursor.execute(_NOT_COPIED_SQL, {"table": table})
    if lost := [what for (what,) in cursor.fetchall()]:
        raise GenerationRefused(f"{table} cannot be rebuilt as a copy: it has {', '.join(lost)}")
    for index in _indexes(cursor, table):
        if len(index.name + NEXT_SUFFIX) > _MAX_NAME:
            raise GenerationRefused(f"{index.name}: too long a name to carry {NEXT_SUFFIX!r} during a swap")
    next_table = table + NEXT_SUFFIX
    cursor.execute(f'CREATE TABLE "{next_table}" (LIKE "{table}" INCLUDING ALL EXCLUDING INDEXES)')
    cursor.execute("SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = %s::regclass", [table])
    (options,) = cursor.fetchone()
    if options:  # e.g. fillfactor, autovacuum settings: our own migrations' values
        cursor.execute(f'ALTER TABLE "{next_table}" SET ({options})')
    return next_table


def next_generation_index(cursor: CursorWrapper, *, table: str) -> None:
    """Build the live table's indexes and constraints on the filled copy, under names of their own
    until the swap."""
    next_table = table + NEXT_SUFFIX
    for index in _indexes(cursor, table):
        name = index.name + NEXT_SUFFIX
        if index.constraint:
            cursor.execute(f'ALTER TABLE "{next_table}" ADD CONSTRAINT "{name}" {index.constraint}')
        else:
            unique = "UNIQUE " if index.unique else ""
            cursor.execute(f'CREATE {unique}INDEX "{name}" ON "{next_table}" USING {index.definition}')


def _live_table_take(cursor: CursorWrapper, *, table: str) -> None:
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            with transaction.atomic():  # a savepoint: a refused attempt leaves the run usable
                cursor.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE NOWAIT')
                return
        except OperationalError:
            if attempt == SWAP_ATTEMPTS:
                raise
            time.sleep(SWAP_PAUSE_SECONDS)


def next_generation_swap(cursor: CursorWrapper, *, table: str) -> None:
    """The copy becomes `table`: the previous generation is dropped and every name (the table's, its
    indexes', constraints' and identity sequence's) is the live one again."""
    next_table = table + NEXT_SUFFIX
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id'), pg_get_serial_sequence(%s, 'id')", [table, next_table])
    live_sequence, next_sequence = cursor.fetchone()
    indexes = _indexes(cursor, next_table)
    _live_table_take(cursor, table=table)
    cursor.execute(f'DROP TABLE "{table}"')
    cursor.execute(f'ALTER TABLE "{next_table}" RENAME TO "{table}"')
    for index in indexes:
        live_name = index.name.removesuffix(NEXT_SUFFIX)
        if index.constraint:  # renaming the constraint renames its index too
            cursor.execute(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{index.name}" TO "{live_name}"')
        else:
            cursor.execute(f'ALTER INDEX "{index.name}" RENAME TO "{live_name}"')
    if live_sequence and next_sequence:
        live_sequence_name = live_sequence.rsplit(".", 1)[-1].strip('"')
        cursor.execute(f'ALTER SEQUENCE {next_sequence} RENAME TO "{live_sequence_name}"')
