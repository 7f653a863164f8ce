"""A derived table rebuilt whole as a new generation (PostgreSQL), for rewrites that touch most rows.

When most rows change (a new bet moves the place of everyone below it), rewriting them in place costs
a new entry in every index per row plus the dead rows left behind. A new generation is written into
a plain copy of the table with no index, its indexes are built once over the finished rows (a sort,
not 100,000 insertions), and it takes the live table's name in one short step. All of it runs in the
caller's transaction: readers see the previous generation until it commits, then the new one, never
a half-written table. The copy is the live table's exact shape (columns, defaults, identity, checks,
constraints and indexes as the migrations left them), so a migration of the table needs no change
here.
"""

from dataclasses import dataclass

from django.db.backends.utils import CursorWrapper

NEXT_SUFFIX = "_next"
# Taking the live table's name waits for readers in flight (milliseconds); a reader stuck in a long
# transaction fails this run (the next one retries) rather than queueing every other reader behind it.
SWAP_LOCK_TIMEOUT = "1s"


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


def next_generation_create(cursor: CursorWrapper, *, table: str) -> str:
    """An empty copy of `table` without indexes, to fill; returns its name."""
    next_table = table + NEXT_SUFFIX
    cursor.execute(f'CREATE TABLE "{next_table}" (LIKE "{table}" INCLUDING ALL EXCLUDING INDEXES)')
    return next_table


def next_generation_index(cursor: CursorWrapper, *, table: str) -> None:
    """Build the live table's indexes and constraints on the filled copy (under names of their own
    until the swap). No ANALYZE here (a twentieth of a run): the index builds record the row count,
    which is all the planner needs to pick the board's index scans, and autovacuum analyses a table
    this new within a minute."""
    next_table = table + NEXT_SUFFIX
    for index in _indexes(cursor, table):
        name = index.name + NEXT_SUFFIX
        if index.constraint:
            cursor.execute(f'ALTER TABLE "{next_table}" ADD CONSTRAINT "{name}" {index.constraint}')
        else:
            unique = "UNIQUE " if index.unique else ""
            cursor.execute(f'CREATE {unique}INDEX "{name}" ON "{next_table}" USING {index.definition}')


def next_generation_swap(cursor: CursorWrapper, *, table: str) -> None:
    """The copy becomes `table`: the previous generation is dropped and every name (the table's, its
    indexes', constraints' and identity sequence's) is the live one again."""
    next_table = table + NEXT_SUFFIX
    cursor.execute("SELECT current_setting('lock_timeout')")
    (lock_timeout,) = cursor.fetchone()
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [SWAP_LOCK_TIMEOUT])
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id'), pg_get_serial_sequence(%s, 'id')", [table, next_table])
    live_sequence, next_sequence = cursor.fetchone()
    indexes = _indexes(cursor, next_table)
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
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
