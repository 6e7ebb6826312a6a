"""The change feed on PostgreSQL: LISTEN instead of polling ``PRAGMA data_version``.

Every write transaction that changed something sends ``NOTIFY dispatch_changes`` with
its schema name as payload (store/postgres_backend.py); the server delivers it at
commit, to every listening connection. The watcher keeps one dedicated autocommit
connection that LISTENs; a poll only drains what the socket already holds (no round
trip), and reads ``audit_event`` when something came in.

If the connection drops (server restart, network), notifications sent meanwhile are
lost, so the feed reconnects and reports a change: the caller then catches up from
the change log by id, which is what the log is for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from dispatch_tui.store.errors import DatabaseUnusable
from dispatch_tui.store.postgres_backend import CHANNEL

_SELECT = (
    "SELECT id, at, actor, action, entity, entity_id, detail FROM audit_event "
    "WHERE id > %s ORDER BY id LIMIT %s"
)


def _as_text(at: datetime) -> str:
    # The text SQLite holds for the same naive-UTC time, so events read the same
    # whatever the backend.
    return at.isoformat(" ", "microseconds")


class NotifyFeed:
    """One LISTENing connection for ``ChangeWatcher``."""

    def __init__(self, url: str, *, connect_timeout: int) -> None:
        self._url = url
        self._timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._schema = ""
        self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=self._timeout)
        except psycopg.OperationalError as exc:
            raise DatabaseUnusable(
                f"lost the connection to the PostgreSQL server ({str(exc).strip()}); "
                "changes by others will show once it is back"
            ) from None
        conn.execute(f"LISTEN {CHANNEL}")
        row = conn.execute("SELECT current_schema()").fetchone()
        self._schema = str(row[0]) if row else ""
        self._conn = conn
        return conn

    def _live(self) -> tuple[psycopg.Connection[Any], bool]:
        """The connection, and whether it had to be made again (notifications lost)."""
        if self._conn is not None and not self._conn.closed:
            return self._conn, False
        return self._connect(), True

    def moved(self) -> bool:
        conn, reconnected = self._live()
        try:
            # timeout=0: take what already arrived, never wait.
            notes = list(conn.notifies(timeout=0))
        except psycopg.OperationalError:
            conn.close()
            self._conn = None
            self._live()
            return True
        # Other desks in other schemas of the same database use the same channel.
        return reconnected or any(n.payload == self._schema for n in notes)

    def last_id(self) -> int:
        conn, _ = self._live()
        row = conn.execute("SELECT coalesce(max(id), 0) FROM audit_event").fetchone()
        return int(row[0]) if row else 0

    def rows_after(self, after_id: int, limit: int) -> list[tuple[Any, ...]]:
        conn, _ = self._live()
        rows = conn.execute(_SELECT, (after_id, limit)).fetchall()
        return [(r[0], _as_text(r[1]), *r[2:]) for r in rows]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
