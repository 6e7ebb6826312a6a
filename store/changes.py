"""The change feed: what other dispatchers committed since we last looked.

``PRAGMA data_version`` changes on a connection only when *another* connection has
committed to the file, and asking costs one small read of the file header, so
polling it every half second is cheap even on a network share. It must be asked on
the same connection each time (the value is per connection), so the watcher keeps
ONE dedicated connection in autocommit mode: between polls it holds no transaction
and therefore no lock that could delay anyone's save.

When the value moves, the new rows of ``audit_event`` (its id only grows) say what
changed. Some commits write no audit event (claims, settings renewals), so a poll
also reports ``changed`` on its own: a screen that shows claims re-reads them then.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dispatch_tui.store.engine import Database

#: Most audit events one poll returns; a screen that falls further behind than this
#: (a bulk import, say) should reload its view rather than apply events one by one.
DEFAULT_BATCH = 500


@dataclass(frozen=True)
class ChangeEvent:
    """One row of ``audit_event`` as plain values (safe to hand to another thread)."""

    id: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: int | None
    detail: str


@dataclass(frozen=True)
class Changes:
    #: Another connection committed since the previous poll (with or without events).
    changed: bool
    events: list[ChangeEvent] = field(default_factory=list)
    #: More events wait than one batch held; poll again, or reload the view.
    truncated: bool = False


_SELECT = (
    "SELECT id, at, actor, action, entity, entity_id, detail FROM audit_event "
    "WHERE id > ? ORDER BY id LIMIT ?"
)


class ChangeWatcher:
    """Poll for commits by other connections and return the audit events they wrote.

    Starts at the current end of the log: events from before it was created are not
    replayed. ``poll()`` is thread-safe and meant to run in a worker on a timer.
    """

    def __init__(self, db: Database, *, batch: int = DEFAULT_BATCH) -> None:
        self.batch = batch
        self._lock = threading.Lock()
        # Read-write although it never writes: a read-only connection cannot roll back
        # the hot journal a crashed writer left, and would fail until someone else did.
        self._conn: sqlite3.Connection | None = db.connect_raw()
        self._data_version = self._pragma_data_version()
        last = self._conn.execute("SELECT coalesce(max(id), 0) FROM audit_event").fetchone()
        self._last_id = int(last[0])
        self._behind = False

    @property
    def last_seen_id(self) -> int:
        return self._last_id

    def _pragma_data_version(self) -> int:
        assert self._conn is not None, "the watcher is closed"
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def poll(self) -> Changes:
        """One check: nothing if nobody committed, else the new events (at most ``batch``)."""
        with self._lock:
            version = self._pragma_data_version()
            if version == self._data_version and not self._behind:
                return Changes(changed=False)
            self._data_version = version
            # One statement in autocommit: its read lock ends when the rows are fetched.
            rows = self._conn.execute(_SELECT, (self._last_id, self.batch + 1)).fetchall()
            truncated = len(rows) > self.batch
            rows = rows[: self.batch]
            events = [ChangeEvent(*row) for row in rows]
            if events:
                self._last_id = events[-1].id
            self._behind = truncated
            return Changes(changed=True, events=events, truncated=truncated)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> ChangeWatcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
