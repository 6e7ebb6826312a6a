"""Schema versions: create a new file, migrate an older one forward, refuse a newer one.

The version lives in the ``meta`` table (not ``PRAGMA user_version``) so the same
mechanism works on PostgreSQL. A migration is a function from version N-1 to N;
all pending ones run inside one write transaction, so a file is never half-migrated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

# models also registers the tables on the metadata that ``create_all`` reads.
from dispatch_tui.store import models, sla_tally
from dispatch_tui.store.errors import DatabaseUnusable

if TYPE_CHECKING:
    from dispatch_tui.store.engine import Database

#: The schema this code reads and writes. Bump it with a migration below.
SCHEMA_VERSION = 8


def add_screen_query_indexes(conn: Connection) -> None:
    """Schema 2: indexes that keep the screens' counts off the ticket rows (issue 9).

    The same indexes are declared on the models, so a new file gets them from
    ``create_all``; IF NOT EXISTS makes this step safe to run on a file that has them.
    Plain SQL that SQLite and PostgreSQL both accept.
    """
    for name, table, columns in (
        ("ix_ticket_status_due", "ticket", "status, due_at"),
        ("ix_ticket_status_tech_estimate", "ticket", "status, assigned_tech_id, estimate_hours"),
        ("ix_ticket_created_type_priority", "ticket", "created_at, ticket_type, priority"),
        ("ix_service_call_start", "service_call", "starts_at"),
    ):
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})"))


def _add_ticket_columns(conn: Connection, names: tuple[str, ...]) -> None:
    """Add the ticket columns ``names`` that the file lacks, as the model declares them
    (type; ``NOT NULL DEFAULT`` from its server default): safe to run again."""
    table = models.Ticket.__table__
    present = {column["name"] for column in inspect(conn).get_columns("ticket")}
    for name in names:
        if name in present:
            continue
        column = table.c[name]
        added = f"{name} {column.type.compile(dialect=conn.dialect)}"
        if column.server_default is not None:
            default = column.server_default.arg.compile(dialect=conn.dialect)
            added += f"{'' if column.nullable else ' NOT NULL'} DEFAULT {default}"
        conn.execute(text(f"ALTER TABLE ticket ADD COLUMN {added}"))


def add_sla_due_columns(conn: Connection) -> None:
    """Schema 3: the ticket's SLA met-by moments (see docs/schema.md, ``ticket``).

    The columns arrive empty: deriving them needs the business calendar, which lives
    above the store. An empty row is judged live by the SLA report (correct, only
    slower) until ``dispatch_tui.services.sla_stamps.restamp`` fills it.
    """
    # Like every step, safe to run on a file that already has some of it.
    _add_ticket_columns(conn, ("sla_basis", "sla_policy", "respond_by", "engage_by", "resolve_by"))
    # Its index, ix_ticket_created_sla, is no longer built here: schema 6 replaces it by
    # ix_ticket_priority_sla, which that step creates.


def add_resolution_noted(conn: Connection) -> None:
    """Schema 4: ``ticket.resolution_noted``, backfilled from the notes, and its indexes
    for the desk health checks (see docs/schema.md, ``ticket``).

    The check "resolved without a resolution note" then reads one index range instead
    of looking up the notes of every resolved ticket in history (264 ms at 1M tickets),
    "no note after a day of work" reads engagement times from an index, and
    ``ix_ticket_status_created`` gains priority and resolved_at so "past the resolution
    target" reads no ticket rows. Every step is safe to run again: the column is added
    only when missing, the backfill sets what the notes say, the indexes are created if
    absent and the widened one rebuilt only while it has its old columns.
    """
    table = models.Ticket.__table__
    _add_ticket_columns(conn, ("resolution_noted",))
    note = models.Note.__table__
    noted = select(note.c.ticket_id).where(note.c.kind == models.NoteKind.RESOLUTION.value)
    conn.execute(
        update(table)
        .where(table.c.id.in_(noted), table.c.resolution_noted.is_(False))
        .values(resolution_noted=True)
    )
    present_indexes = {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("ticket")}
    for index in table.indexes:
        if index.name not in _HEALTH_INDEXES:
            continue
        wanted = [c.name for c in index.columns]
        if index.name in present_indexes and present_indexes[index.name] != wanted:
            # Widened in place (same name, same leading columns): one index, not two.
            index.drop(conn)
        index.create(conn, checkfirst=True)


_HEALTH_INDEXES = {"ix_ticket_noted_status", "ix_ticket_status_engaged", "ix_ticket_status_created"}


def widen_screen_indexes(conn: Connection) -> None:
    """Schema 5: indexes that answer the board, suggestions, utilisation and the priority
    mix without visiting rows or sorting a period (docs/schema.md, issue 9).

    Three replace an index by a wider one with the same leading columns, so every
    query that used the old one can use the new one. Safe to run twice.
    """
    for old in _WIDENED:
        conn.execute(text(f"DROP INDEX IF EXISTS {old}"))
    for table in (models.Ticket.__table__, models.TimeEntry.__table__):
        for index in table.indexes:
            if index.name in _SCHEMA_5_INDEXES:
                index.create(conn, checkfirst=True)


#: Indexes schema 5 replaces by a wider one (see the models for the new ones).
_WIDENED = ("ix_ticket_tech_status", "ix_ticket_client_created", "ix_time_entry_tech_start")
_SCHEMA_5_INDEXES = {
    "ix_ticket_tech_status_priority",
    "ix_ticket_client_created_tech",
    "ix_ticket_type_priority_created",
    "ix_time_entry_tech_start_hours",
}


def track_last_note(conn: Connection) -> None:
    """Schema 6: ``ticket.last_note_at`` and ``last_note_known``, and the indexes that let
    the desk health checks read the open work from indexes alone (docs/schema.md).

    Only the open tickets' latest notes are read here (a few thousand rows even on a
    file of a million tickets): the rest keep ``last_note_known`` 0 and are judged from
    their notes, should they ever open again, so no write touches history. Every step
    is safe to run again: columns added when missing, the fill limited to rows not yet
    known, indexes created if absent and the two they widen dropped if present.
    """
    table = models.Ticket.__table__
    _add_ticket_columns(conn, ("last_note_at", "last_note_known"))
    note = models.Note.__table__
    latest = (
        select(func.max(note.c.created_at)).where(note.c.ticket_id == table.c.id)
    ).scalar_subquery()
    open_ = [s.value for s in models.OPEN_STATUSES]
    conn.execute(
        update(table)
        .where(table.c.status.in_(open_), table.c.last_note_known.is_(False))
        .values(last_note_at=latest, last_note_known=True)
    )
    for old in _WIDENED_6:
        conn.execute(text(f"DROP INDEX IF EXISTS {old}"))
    # After the fill, so the partial index is built once with its final entries.
    for model in (models.Ticket, models.TimeEntry, models.ServiceCall):
        for index in model.__table__.indexes:
            if index.name in _SCHEMA_6_INDEXES:
                index.create(conn, checkfirst=True)


#: Schema 6's indexes (see the models), and the narrower ones they replace.
_SCHEMA_6_INDEXES = {
    "ix_ticket_open_health",
    "ix_time_entry_ticket_created",
    "ix_time_entry_pending_hours",
    "ix_service_call_ticket_end",
}
_WIDENED_6 = (
    "ix_time_entry_ticket",
    "ix_time_entry_pending",
    "ix_ticket_status_engaged",
    "ix_service_call_ticket",
)


def reorder_sla_index(conn: Connection) -> None:
    """Schema 7: the SLA report's covering index led by priority and the stamp's receipt
    (``ix_ticket_priority_sla``) instead of by arrival (``ix_ticket_created_sla``), and
    ``ix_ticket_created`` widened by that receipt and the priority.

    Each priority's current rows of a stretch are then one range in order, so the report
    no longer sorts every arrival of its eight weeks by priority nor tests each row's
    receipt; the few rows it cannot trust (tickets not stamped yet) it finds in the
    arrival index (docs/schema.md, issue 9). Only indexes change: no row is rewritten;
    both are built in about 18 s on a million tickets. The old SLA index goes, as no
    other query reads it and it would cost every ticket write. Safe to run twice.
    """
    conn.execute(text("DROP INDEX IF EXISTS ix_ticket_created_sla"))
    # ix_ticket_priority_sla is no longer built here: schema 8 (``add_sla_tally``), which
    # always runs after this step, replaces it, and building it would cost a million-
    # ticket file about ten seconds for nothing.
    arrival = ["created_at", "sla_policy", "sla_basis", "priority"]
    present = {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("ticket")}
    if present.get("ix_ticket_created") != arrival:
        # Widened in place (same name, same leading column): one index, not two.
        conn.execute(text("DROP INDEX IF EXISTS ix_ticket_created"))
        conn.execute(text(f"CREATE INDEX ix_ticket_created ON ticket ({', '.join(arrival)})"))


def add_sla_tally(conn: Connection) -> None:
    """Schema 8: ``sla_tally`` and its triggers (store/sla_tally.py), and one partial
    index per SLA clock for the tickets whose clock still runs (``ix_ticket_running_*``),
    in place of ``ix_ticket_priority_sla``.

    The SLA report then sums a few hundred tally rows and reads the running clocks,
    instead of judging every arrival of its eight weeks (13,000 index entries and 25 ms
    at a million tickets). The tally is counted from the tickets in one pass, before
    the old index goes (it covers every column the count reads). Safe to run twice:
    the count starts afresh and the triggers are made again.
    """
    models.SLA_TALLY.create(conn, checkfirst=True)
    sla_tally.rebuild(conn)
    sla_tally.resume(conn)
    for index in models.Ticket.__table__.indexes:  # type: ignore[attr-defined]
        if index.name.startswith("ix_ticket_running_"):
            index.create(conn, checkfirst=True)
    conn.execute(text("DROP INDEX IF EXISTS ix_ticket_priority_sla"))


#: MIGRATIONS[n] upgrades a file from version n-1 to n.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: add_screen_query_indexes,
    3: add_sla_due_columns,
    4: add_resolution_noted,
    5: widen_screen_indexes,
    6: track_last_note,
    7: reorder_sla_index,
    8: add_sla_tally,
}


def read_version(conn: Connection) -> int | None:
    """The file's schema version, or None when it has no dispatch-tui tables at all."""
    tables = set(inspect(conn).get_table_names())
    if "meta" not in tables:
        return None if not tables else -1
    row = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else -1


def ensure_current(db: Database, *, create: bool) -> None:
    with db.read() as session:
        version = read_version(session.connection())
    if version == SCHEMA_VERSION:
        return
    if version == -1:
        raise db.backend.foreign()
    if version is None:
        if not create:
            raise DatabaseUnusable(
                f"{db.path} is empty; run 'dispatch-tui init --db {db.path}' to set it up"
            )
        with db.write() as session:
            conn = session.connection()
            SQLModel.metadata.create_all(conn)
            sla_tally.resume(conn)
            _set_version(conn, SCHEMA_VERSION)
        return
    if version > SCHEMA_VERSION:
        raise DatabaseUnusable(
            f"{db.path} uses schema version {version}, newer than this dispatch-tui "
            f"understands ({SCHEMA_VERSION}); upgrade dispatch-tui. The file was not changed"
        )
    with db.write() as session:
        conn = session.connection()
        for step in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](conn)
        _set_version(conn, SCHEMA_VERSION)


def _set_version(conn: Connection, version: int) -> None:
    conn.execute(
        text(
            "INSERT INTO meta (key, value) VALUES ('schema_version', :v) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        ),
        {"v": str(version)},
    )
