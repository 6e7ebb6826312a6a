"""Opening the database file and running short read and write transactions.

The shared-file rules (see README, "Sharing one file"): SQLite keeps a rollback
journal (``journal_mode=DELETE``) because WAL needs shared memory on one host and
breaks on a network drive; every write is one short ``BEGIN IMMEDIATE``
transaction so two dispatchers never deadlock upgrading read locks; and no
session stays open while a person looks at a screen.

Audit of think-time (issue 6): every ``read()``/``write()`` in services/ and store/
is a ``with`` block around queries only (tests/test_locking.py checks the source);
the TUI calls services from workers and keeps plain values, never a session. A
transaction that still stays open longer than ``LONG_TRANSACTION_S`` is logged, so
a regression shows up in the log rather than as another dispatcher's lock timeout.
"""

from __future__ import annotations

import logging
import os
import random
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.request import pathname2url

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from dispatch_tui.store import schema
from dispatch_tui.store.errors import DatabaseLocked, DatabaseUnusable, StaleRecord

#: How long a write waits for another dispatcher's lock before giving up.
DEFAULT_LOCK_TIMEOUT_S = 10.0

#: A transaction open longer than this is logged: in rollback-journal mode an open
#: reader stops every other dispatcher from committing.
LONG_TRANSACTION_S = 2.0

#: ``quick_check`` reads every page of the file. Measured on a 100,000-ticket demo
#: file (82 MB): 0.2 s with the file in the page cache, 1.6 s cold, on a local disk;
#: on a network share it is the time to read the whole file, and it holds a read lock
#: (blocking others' commits) all along. So opening runs it only on files up to this
#: size (a few thousand tickets, tens of milliseconds); bigger files are checked by
#: ``dispatch-tui doctor`` and ``backup``, and the TUI runs ``Database.quick_check()``
#: in a background worker after start-up.
QUICK_CHECK_AT_OPEN_MAX_BYTES = 8 * 1024 * 1024

log = logging.getLogger("dispatch_tui.store")


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


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


def _stale_message(exc: StaleDataError) -> str:
    match = re.search(r"on table '(\w+)'", str(exc))
    what = f"a {match.group(1)} record" if match else "a record"
    return (
        f"{what} was changed by someone else since you read it; nothing was saved. "
        "Reload it and apply your edit again"
    )


class Database:
    """One dispatch-tui database file, opened, checked and migrated to the current schema.

    ``read()`` and ``write()`` hand out short-lived sessions; nothing is held open
    between them, so a dispatcher looking at a form never blocks another's save.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
        check_at_open: bool = True,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.lock_timeout = lock_timeout
        self._check_path(create)
        existed = self.path.exists()
        mode = "rwc" if create else "rw"
        uri = f"file:{pathname2url(str(self.path))}?mode={mode}"

        def connect() -> sqlite3.Connection:
            # isolation_level=None: pysqlite must not issue its own BEGIN; our
            # "begin" hook below decides between BEGIN and BEGIN IMMEDIATE.
            return sqlite3.connect(
                uri, uri=True, timeout=lock_timeout, isolation_level=None, check_same_thread=False
            )

        # NullPool: a connection per transaction. Opening a local SQLite file costs
        # microseconds, and no pooled connection can keep a stale read lock alive.
        self.engine: Engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
        event.listen(self.engine, "connect", self._on_connect)
        event.listen(self.engine, "begin", self._on_begin)
        try:
            # Checked before any migration may write to the file: a damaged file is
            # refused untouched.
            if check_at_open and existed and self._small_enough_to_check_at_open():
                problems = self.quick_check(max_errors=1)
                if problems:
                    raise DatabaseUnusable(
                        f"{self.path} is damaged ({problems[0]}); it was not changed. "
                        "Run 'dispatch-tui doctor', or restore it from a backup"
                    )
            schema.ensure_current(self, create=create)
        except (SADatabaseError, sqlite3.DatabaseError) as exc:
            self.engine.dispose()
            reason = getattr(exc, "orig", None) or exc
            raise DatabaseUnusable(
                f"{self.path} is not a usable dispatch-tui database ({reason}); "
                "check the path, or restore it from a backup"
            ) from None
        except BaseException:
            self.engine.dispose()
            raise

    # -- opening -----------------------------------------------------------------

    def _check_path(self, create: bool) -> None:
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

    def _on_connect(self, dbapi_conn: sqlite3.Connection, _record) -> None:
        ms = int(self.lock_timeout * 1000)
        dbapi_conn.execute(f"PRAGMA busy_timeout = {ms}")
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        dbapi_conn.execute("PRAGMA synchronous = FULL")
        dbapi_conn.execute("PRAGMA locking_mode = NORMAL")
        mode = dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "delete":
            mode = dbapi_conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if mode.lower() != "delete":
            raise DatabaseUnusable(
                f"{self.path} is in journal mode {mode!r} and could not be switched to 'delete'; "
                "a shared file needs a rollback journal"
            )

    def _small_enough_to_check_at_open(self) -> bool:
        try:
            return self.path.stat().st_size <= QUICK_CHECK_AT_OPEN_MAX_BYTES
        except OSError:
            return False

    # -- checks ------------------------------------------------------------------

    def connect_raw(self, *, readonly: bool = False) -> sqlite3.Connection:
        """A plain sqlite3 connection in autocommit mode, for checks, backups and watchers.

        Same busy timeout as the engine; it never creates the file. The caller closes it.
        """
        mode = "ro" if readonly else "rw"
        uri = f"file:{pathname2url(str(self.path))}?mode={mode}"
        conn = sqlite3.connect(
            uri, uri=True, timeout=self.lock_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
        return conn

    def quick_check(self, *, max_errors: int = 10) -> list[str]:
        """SQLite's ``quick_check``: the problems found, or an empty list when the file is ok.

        It reads the whole file under one read lock (see QUICK_CHECK_AT_OPEN_MAX_BYTES
        for what that costs); call it from a worker, never on the UI thread.
        """
        # Read-write although it only reads: after a crash the file has a hot journal,
        # which a read-only connection cannot roll back ("attempt to write a readonly
        # database"); tests/test_crash_safety.py caught exactly that.
        return _check(self.connect_raw(), "quick_check", max_errors)

    def integrity_check(self, *, max_errors: int = 10) -> list[str]:
        """SQLite's full ``integrity_check`` (about 5x slower than quick_check)."""
        return _check(self.connect_raw(), "integrity_check", max_errors)

    @staticmethod
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("dispatch_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    # -- transactions ------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read: one deferred transaction, closed on exit."""
        started = time.monotonic()
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                _warn_if_long("read", started)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One short write transaction started with BEGIN IMMEDIATE, committed on exit.

        Taking the write lock up front means a transaction never has to upgrade a
        read lock, which is where two writers deadlock in rollback-journal mode.
        Waiting for the lock is SQLite's busy timeout; a lock refused at once is
        retried with jittered backoff until the same timeout has passed.
        """
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            session = Session(self.engine, expire_on_commit=False)
            try:
                session.connection(execution_options={"dispatch_immediate": True})
                break
            except OperationalError as exc:
                session.close()
                if not _is_lock_error(exc):
                    raise
                if time.monotonic() + delay >= deadline:
                    raise DatabaseLocked(
                        f"{self.path} stayed locked by another dispatcher for more than "
                        f"{self.lock_timeout:g} s; nothing was saved, try again"
                    ) from None
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.5)
        started = time.monotonic()
        try:
            yield session
            session.commit()
        except StaleDataError as exc:
            session.rollback()
            if isinstance(exc, StaleRecord):
                raise
            raise StaleRecord(_stale_message(exc)) from None
        except OperationalError as exc:
            session.rollback()
            if _is_lock_error(exc):
                raise DatabaseLocked(
                    f"{self.path} stayed locked by another dispatcher; nothing was saved, try again"
                ) from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            _warn_if_long("write", started)

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r})"


def _check(conn: sqlite3.Connection, pragma: str, max_errors: int) -> list[str]:
    try:
        rows = conn.execute(f"PRAGMA {pragma}({int(max_errors)})").fetchall()
    finally:
        conn.close()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def _warn_if_long(kind: str, started: float) -> None:
    held = time.monotonic() - started
    if held > LONG_TRANSACTION_S:
        log.warning(
            "a %s transaction stayed open %.1f s; others cannot commit meanwhile", kind, held
        )
