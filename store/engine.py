"""Opening the database file and running short read and write transactions.

The shared-file rules (see README, "Sharing one file"): SQLite keeps a rollback
journal (``journal_mode=DELETE``) because WAL needs shared memory on one host and
breaks on a network drive; every write is one short ``BEGIN IMMEDIATE``
transaction so two dispatchers never deadlock upgrading read locks; and no
session stays open while a person looks at a screen.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.request import pathname2url

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from dispatch_tui.store import schema
from dispatch_tui.store.errors import DatabaseLocked, DatabaseUnusable

#: How long a write waits for another dispatcher's lock before giving up.
DEFAULT_LOCK_TIMEOUT_S = 10.0


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
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.lock_timeout = lock_timeout
        self._check_path(create)
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
            schema.ensure_current(self, create=create)
        except SADatabaseError as exc:
            self.engine.dispose()
            raise DatabaseUnusable(
                f"{self.path} is not a usable dispatch-tui database ({exc.orig}); "
                "check the path, or restore it from a backup"
            ) from None

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
                f"cannot write to {self.path}: {reason}; fix its permissions or copy it somewhere writable"
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

    @staticmethod
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("dispatch_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    # -- transactions ------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read: one deferred transaction, closed on exit."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

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
        try:
            yield session
            session.commit()
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

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r})"
