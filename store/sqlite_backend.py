"""The SQLite side of ``Database``: one file, possibly on a network share.

The shared-file rules (see README, "Sharing one file"): a rollback journal
(``journal_mode=DELETE``) because WAL needs shared memory on one host and breaks on a
network drive; every write is a ``BEGIN IMMEDIATE`` transaction so two dispatchers
never deadlock upgrading read locks; connections are reused between transactions
(store/sqlite_pool.py says why that is safe).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlmodel import create_engine

from dispatch_tui.store import sqlite_pool
from dispatch_tui.store.errors import DatabaseUnusable

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlmodel import Session

    from dispatch_tui.store.changes import ChangeFeed

#: ``quick_check`` reads every page of the file. Measured on a 100,000-ticket demo
#: file (82 MB): 0.2 s with the file in the page cache, 1.6 s cold, on a local disk;
#: on a network share it is the time to read the whole file, and it holds a read lock
#: (blocking others' commits) all along. So opening runs it only on files up to this
#: size (a few thousand tickets, tens of milliseconds); bigger files are checked by
#: ``dispatch-tui doctor`` and ``backup``, and the TUI runs ``Database.quick_check()``
#: in a background worker after start-up.
QUICK_CHECK_AT_OPEN_MAX_BYTES = 8 * 1024 * 1024

#: Page cache per connection, in KiB (SQLite's default is 2000). A few connections are
#: pooled, so the worst case is a few times this; it fills only with pages read.
PAGE_CACHE_KIB = 8192


def pathname2url(path: str) -> str:
    """``urllib.request.pathname2url``, for the ``file:`` URIs sqlite3 opens.

    Importing urllib.request brings in its HTTP client and mail parsing, a few
    milliseconds at every start before the file can be opened. On POSIX it quotes
    the path (a leading "//" would read as a host, so it is kept as a path); Windows
    has its own rules, in the same small module urllib.request uses.
    """
    if os.name == "nt":
        from nturl2path import pathname2url as nt_pathname2url

        return nt_pathname2url(path)
    quoted = quote(path)
    return "//" + quoted if quoted.startswith("//") else quoted


def _readonly_reason(path: Path) -> str | None:
    if not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(path.parent, os.W_OK):
        # SQLite writes its rollback journal beside the file.
        return "its folder is read-only (SQLite needs to create a journal file there)"
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "it sits on a read-only file system"
    except OSError:
        pass
    return None


class SQLiteBackend:
    """Connecting to, locking and checking one SQLite file."""

    kind = "sqlite"
    #: Errors of the driver that mean "this is not a usable database" at open.
    driver_errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float) -> None:
        self.path = Path(path).expanduser().resolve()
        #: What to pass to ``Database()`` to open the same database again.
        self.target: Path = self.path
        self.lock_timeout = lock_timeout

    # -- opening -----------------------------------------------------------------

    def check_target(self, create: bool) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            raise DatabaseUnusable(
                f"the folder {folder} does not exist; create it or pass another --db path"
            )
        if self.path.is_dir():
            raise DatabaseUnusable(f"{self.path} is a folder, not a database file")
        if not self.path.exists():
            if create:
                return
            raise DatabaseUnusable(
                f"no database at {self.path}; run 'dispatch-tui init --db {self.path}' "
                "to create one, or 'dispatch-tui --demo' for a demo"
            )
        reason = _readonly_reason(self.path)
        if reason:
            raise DatabaseUnusable(
                f"cannot write to {self.path}: {reason}; "
                "fix its permissions or copy it somewhere writable"
            )

    def exists(self) -> bool:
        return self.path.exists()

    def make_engine(self, create: bool) -> Engine:
        mode = "rwc" if create else "rw"
        uri = f"file:{pathname2url(str(self.path))}?mode={mode}"
        path, timeout = self.path, self.lock_timeout

        # Connections stay open between transactions (see store/sqlite_pool.py for
        # why that is safe on a shared file and what is checked at each checkout).
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite_pool.connect(uri, path, timeout),
            poolclass=QueuePool,
            pool_size=sqlite_pool.POOL_SIZE,
            max_overflow=sqlite_pool.MAX_OVERFLOW,
            pool_recycle=sqlite_pool.MAX_AGE_S,
        )
        sqlite_pool.install_guards(engine, path)
        event.listen(engine, "connect", self._on_connect)
        event.listen(engine, "begin", _on_begin)
        return engine

    def _on_connect(self, dbapi_conn: sqlite3.Connection, _record) -> None:
        ms = int(self.lock_timeout * 1000)
        dbapi_conn.execute(f"PRAGMA busy_timeout = {ms}")
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        dbapi_conn.execute("PRAGMA synchronous = FULL")
        dbapi_conn.execute("PRAGMA locking_mode = NORMAL")
        # Pooled connections keep their page cache between transactions (SQLite checks it
        # against the file at each one, so another dispatcher's commit is never read
        # stale). The default 2 MB is smaller than one Dispatch board refresh on a large
        # file (about 200 scattered ticket rows, their notes and index pages), so every
        # refresh read them all again from the OS; pages are only taken as used.
        dbapi_conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        mode = dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "delete":
            mode = dbapi_conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if mode.lower() != "delete":
            raise DatabaseUnusable(
                f"{self.path} is in journal mode {mode!r} and could not be switched to 'delete'; "
                "a shared file needs a rollback journal"
            )

    def open_check(self) -> list[str]:
        """Problems found by a quick_check at open (small files only, see the constant)."""
        try:
            small = self.path.stat().st_size <= QUICK_CHECK_AT_OPEN_MAX_BYTES
        except OSError:
            small = False
        return self.quick_check(max_errors=1) if small else []

    def damaged(self, problem: str) -> DatabaseUnusable:
        return DatabaseUnusable(
            f"{self.path} is damaged ({problem}); it was not changed. "
            "Run 'dispatch-tui doctor', or restore it from a backup"
        )

    def unusable(self, reason: object) -> DatabaseUnusable:
        return DatabaseUnusable(
            f"{self.path} is not a usable dispatch-tui database ({reason}); "
            "check the path, or restore it from a backup"
        )

    def foreign(self) -> DatabaseUnusable:
        return DatabaseUnusable(
            f"{self.path} is an SQLite file of another program, not a dispatch-tui database; "
            "pass the right --db path"
        )

    # -- transactions ------------------------------------------------------------

    @staticmethod
    def is_lock_error(exc: BaseException) -> bool:
        text = str(exc).lower()
        return "database is locked" in text or "database is busy" in text

    def before_commit(self, session: Session) -> None:
        """Nothing to do: another connection's ``PRAGMA data_version`` moves by itself."""

    def notify_changes(self, conn: Connection) -> None:
        """Nothing to do, as in ``before_commit``."""

    def change_feed(self) -> ChangeFeed:
        from dispatch_tui.store.changes import DataVersionFeed

        # Read-write although it never writes: a read-only connection cannot roll back
        # the hot journal a crashed writer left, and would fail until someone else did.
        return DataVersionFeed(self.connect_raw())

    # -- checks ------------------------------------------------------------------

    def connect_raw(self, *, readonly: bool = False) -> sqlite3.Connection:
        mode = "ro" if readonly else "rw"
        uri = f"file:{pathname2url(str(self.path))}?mode={mode}"
        conn = sqlite3.connect(
            uri, uri=True, timeout=self.lock_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
        return conn

    def quick_check(self, *, max_errors: int = 10) -> list[str]:
        # Read-write although it only reads: after a crash the file has a hot journal,
        # which a read-only connection cannot roll back ("attempt to write a readonly
        # database"); tests/test_crash_safety.py caught exactly that.
        return _check(self.connect_raw(), "quick_check", max_errors)

    def integrity_check(self, *, max_errors: int = 10) -> list[str]:
        return _check(self.connect_raw(), "integrity_check", max_errors)


def _on_begin(conn) -> None:
    immediate = conn.get_execution_options().get("dispatch_immediate", False)
    sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"
    # Straight to the driver, like store/core.execute_write: SQLAlchemy's execution of
    # a statement (context, result, event checks) cost several times SQLite's BEGIN, at
    # the start of every transaction, and between one writer's commit and its next
    # BEGIN IMMEDIATE the file's lock is free for nobody. A driver error (the lock
    # still held when the busy timeout ran out) is raised as SQLAlchemy's, as before.
    try:
        conn.connection.driver_connection.execute(sql)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, (), exc, sqlite3.Error) from exc


def _check(conn: sqlite3.Connection, pragma: str, max_errors: int) -> list[str]:
    try:
        rows = conn.execute(f"PRAGMA {pragma}({int(max_errors)})").fetchall()
    finally:
        conn.close()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found
