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

On PostgreSQL the signal is a ``NOTIFY`` that every write transaction sends at commit
(store/pg_changes.py) instead of ``data_version``; the rest is the same.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

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


class ChangeFeed(Protocol):
    """How one backend tells that others committed, and reads the change log."""

    def moved(self) -> bool:
        """Whether another connection committed since the previous call."""

    def last_id(self) -> int:
        """The newest ``audit_event`` id now."""

    def rows_after(self, after_id: int, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` audit rows with a greater id, oldest first, ``at`` as text."""

    def close(self) -> None: ...


class DataVersionFeed:
    """SQLite: one dedicated autocommit connection polled for ``PRAGMA data_version``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._data_version = self._pragma_data_version()

    def _pragma_data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def moved(self) -> bool:
        version = self._pragma_data_version()
        moved, self._data_version = version != self._data_version, version
        return moved

    def last_id(self) -> int:
        return int(self._conn.execute("SELECT coalesce(max(id), 0) FROM audit_event").fetchone()[0])

    def rows_after(self, after_id: int, limit: int) -> list[tuple[Any, ...]]:
        # One statement in autocommit: its read lock ends when the rows are fetched.
        return self._conn.execute(_SELECT, (after_id, limit)).fetchall()

    def close(self) -> None:
        self._conn.close()


class ChangeWatcher:
    """Poll for commits by other connections and return the audit events they wrote.

    Starts at the current end of the log: events from before it was created are not
    replayed. ``poll()`` is thread-safe and meant to run in a worker on a timer.
    """

    def __init__(self, db: Database, *, batch: int = DEFAULT_BATCH) -> None:
        self.batch = batch
        self._lock = threading.Lock()
        self._feed: ChangeFeed | None = db.backend.change_feed()
        self._last_id = self._feed.last_id()
        self._behind = False

    @property
    def last_seen_id(self) -> int:
        return self._last_id

    def poll(self) -> Changes:
        """One check: nothing if nobody committed, else the new events (at most ``batch``)."""
        with self._lock:
            assert self._feed is not None, "the watcher is closed"
            if not self._feed.moved() and not self._behind:
                return Changes(changed=False)
            rows = self._feed.rows_after(self._last_id, self.batch + 1)
            truncated = len(rows) > self.batch
            rows = rows[: self.batch]
            events = [ChangeEvent(*row) for row in rows]
            if events:
                self._last_id = events[-1].id
            self._behind = truncated
            return Changes(changed=True, events=events, truncated=truncated)

    def close(self) -> None:
        with self._lock:
            if self._feed is not None:
                self._feed.close()
                self._feed = None

    def __enter__(self) -> ChangeWatcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
