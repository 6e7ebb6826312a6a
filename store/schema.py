"""Schema versions: create a new file, migrate an older one forward, refuse a newer one.

The version lives in the ``meta`` table (not ``PRAGMA user_version``) so the same
mechanism works on PostgreSQL. A migration is a function from version N-1 to N;
all pending ones run inside one write transaction, so a file is never half-migrated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from dispatch_tui.store import models  # noqa: F401 - registers the tables on the metadata
from dispatch_tui.store.errors import DatabaseUnusable

if TYPE_CHECKING:
    from dispatch_tui.store.engine import Database

#: The schema this code reads and writes. Bump it with a migration below.
SCHEMA_VERSION = 5


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


def add_sla_due_columns(conn: Connection) -> None:
    """Schema 3: the ticket's SLA met-by moments (see docs/schema.md, ``ticket``).

    The columns arrive empty: deriving them needs the business calendar, which lives
    above the store. An empty row is judged live by the SLA report (correct, only
    slower) until ``dispatch_tui.services.sla_stamps.restamp`` fills it.
    """
    table = models.Ticket.__table__
    # Like every step, safe to run on a file that already has some of it.
    present = {column["name"] for column in inspect(conn).get_columns("ticket")}
    for name in ("sla_basis", "sla_policy", "respond_by", "engage_by", "resolve_by"):
        if name in present:
            continue
        kind = table.c[name].type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE ticket ADD COLUMN {name} {kind}"))
    for index in table.indexes:
        if index.name in _SLA_INDEXES:
            index.create(conn, checkfirst=True)


_SLA_INDEXES = {"ix_ticket_created_sla"}


def _reserved_4(conn: Connection) -> None:
    """Schema 4 belongs to another branch of issue 9 (health checks); this placeholder
    only keeps the numbering whole on this branch and is replaced at the merge."""


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

#: MIGRATIONS[n] upgrades a file from version n-1 to n.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: add_screen_query_indexes,
    3: add_sla_due_columns,
    4: _reserved_4,
    5: widen_screen_indexes,
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
