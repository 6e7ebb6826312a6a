"""Opening the database and running short read and write transactions.

``Database(target)`` takes a file path (SQLite, store/sqlite_backend.py) or a
``postgresql://`` URL (store/postgres_backend.py); what differs between the two lives
in those backends, and this class keeps the contract both honour.

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
import os  # noqa: F401 - tests patch engine.os.access to fake a read-only file
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from dispatch_tui.store import schema
from dispatch_tui.store.errors import DatabaseLocked, StaleRecord
from dispatch_tui.store.postgres_backend import PostgresBackend, is_url
from dispatch_tui.store.sqlite_backend import QUICK_CHECK_AT_OPEN_MAX_BYTES, SQLiteBackend

__all__ = ["DEFAULT_LOCK_TIMEOUT_S", "QUICK_CHECK_AT_OPEN_MAX_BYTES", "Database", "is_url"]

#: How long a write waits for another dispatcher's lock before giving up.
DEFAULT_LOCK_TIMEOUT_S = 10.0

#: A transaction open longer than this is logged: in rollback-journal mode an open
#: reader stops every other dispatcher from committing.
LONG_TRANSACTION_S = 2.0

log = logging.getLogger("dispatch_tui.store")

_T = TypeVar("_T")


def _stale_message(exc: StaleDataError) -> str:
    match = re.search(r"on table '(\w+)'", str(exc))
    what = f"a {match.group(1)} record" if match else "a record"
    return (
        f"{what} was changed by someone else since you read it; nothing was saved. "
        "Reload it and apply your edit again"
    )


class Database:
    """One dispatch-tui database, opened, checked and migrated to the current schema.

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
        self.backend: SQLiteBackend | PostgresBackend = (
            PostgresBackend(path, lock_timeout=lock_timeout)
            if is_url(path)
            else SQLiteBackend(path, lock_timeout=lock_timeout)
        )
        #: The file (SQLite) or the URL without its password (PostgreSQL), for messages.
        self.path: Path | str = self.backend.path
        #: What ``Database()`` takes to open the same database again.
        self.target: Path | str = self.backend.target
        self.lock_timeout = lock_timeout
        self.backend.check_target(create)
        existed = self.backend.exists()
        self.engine: Engine = self.backend.make_engine(create)
        try:
            # Checked before any migration may write to the file: a damaged file is
            # refused untouched.
            if check_at_open and existed:
                problems = self.backend.open_check()
                if problems:
                    raise self.backend.damaged(problems[0])
            schema.ensure_current(self, create=create)
        except (SADatabaseError, sqlite3.DatabaseError, *self.backend.driver_errors) as exc:
            self.engine.dispose()
            raise self.backend.unusable(getattr(exc, "orig", None) or exc) from None
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def kind(self) -> str:
        """Which backend: 'sqlite' or 'postgresql'."""
        return self.backend.kind

    # -- checks ------------------------------------------------------------------

    def connect_raw(self, *, readonly: bool = False) -> sqlite3.Connection:
        """A plain sqlite3 connection in autocommit mode, for checks, backups and watchers.

        Same busy timeout as the engine; it never creates the file. The caller closes it.
        SQLite only: on PostgreSQL it raises DatabaseUnusable saying to use pg_dump.
        """
        return self.backend.connect_raw(readonly=readonly)

    def quick_check(self, *, max_errors: int = 10) -> list[str]:
        """SQLite's ``quick_check``: the problems found, or an empty list when the file is ok.

        It reads the whole file under one read lock (see QUICK_CHECK_AT_OPEN_MAX_BYTES
        for what that costs); call it from a worker, never on the UI thread. On
        PostgreSQL there is no file to check and it returns an empty list.
        """
        return self.backend.quick_check(max_errors=max_errors)

    def integrity_check(self, *, max_errors: int = 10) -> list[str]:
        """SQLite's full ``integrity_check`` (about 5x slower than quick_check)."""
        return self.backend.integrity_check(max_errors=max_errors)

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
        """One short write transaction that holds the write lock from its start, committed on exit.

        SQLite: BEGIN IMMEDIATE. Taking the write lock up front means a transaction
        never has to upgrade a read lock, which is where two writers deadlock in
        rollback-journal mode. PostgreSQL: an advisory lock with the same effect (see
        store/postgres_backend.py for why not SERIALIZABLE). Waiting for the lock is
        the busy (lock) timeout; a lock refused at once is retried with jittered
        backoff until the same timeout has passed.
        """
        session = self._locked(self._locked_session)
        started = time.monotonic()
        try:
            yield session
            self.backend.before_commit(session)
            session.commit()
        except StaleDataError as exc:
            session.rollback()
            if isinstance(exc, StaleRecord):
                raise
            raise StaleRecord(_stale_message(exc)) from None
        except OperationalError as exc:
            session.rollback()
            self._raise_if_locked(exc)
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            _warn_if_long("write", started)

    @contextmanager
    def write_core(self) -> Iterator[Connection]:
        """``write()`` for code that sends only Core statements: the same transaction
        (same lock, wait, retries and errors), on a plain Core connection, no ORM session.

        Triage and assignment send only prebuilt statements inside the lock (through
        ``store/core.connection_for``, which takes either). The session around them
        cost about 0.3 ms of every transaction (building it, its transaction and
        commit bookkeeping, its flush before every statement), all of it while the
        file's write lock was held or while the next writer could have taken it
        (bench/shared.py). Nothing the ORM tracks is written here: a stale row shows
        up as ``StaleRecord`` from ``store/writes.update_versioned`` itself.
        """
        conn = self._locked(self._locked_connection)
        started = time.monotonic()
        try:
            yield conn
            self.backend.notify_changes(conn)
            conn.commit()
        except OperationalError as exc:
            conn.rollback()
            self._raise_if_locked(exc)
            raise
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()
            _warn_if_long("write", started)

    def _locked_session(self, options: dict[str, object]) -> Session:
        session = Session(self.engine, expire_on_commit=False)
        try:
            session.connection(execution_options=options)
        except BaseException:
            session.close()
            raise
        return session

    def _locked_connection(self, options: dict[str, object]) -> Connection:
        conn = self.engine.connect()
        try:
            # The engine's "begin" hook reads these: BEGIN IMMEDIATE on SQLite, the
            # advisory lock on PostgreSQL (the backends' _on_begin).
            conn.execution_options(**options)
            conn.begin()
        except BaseException:
            conn.close()
            raise
        return conn

    def _locked(self, open_locked: Callable[[dict[str, object]], _T]) -> _T:
        """``open_locked(options)`` once it gets the write lock: a lock refused at once
        is retried with jittered backoff until ``lock_timeout`` has passed."""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            wait = max(deadline - time.monotonic(), 0.001)
            try:
                return open_locked({"dispatch_immediate": True, "dispatch_lock_wait": wait})
            except OperationalError as exc:
                if not self.backend.is_lock_error(exc):
                    raise
                if time.monotonic() + delay >= deadline:
                    raise DatabaseLocked(
                        f"{self.path} stayed locked by another dispatcher for more than "
                        f"{self.lock_timeout:g} s; nothing was saved, try again"
                    ) from None
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.5)

    def _raise_if_locked(self, exc: OperationalError) -> None:
        if self.backend.is_lock_error(exc):
            raise DatabaseLocked(
                f"{self.path} stayed locked by another dispatcher; nothing was saved, try again"
            ) from None

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r})"


def _warn_if_long(kind: str, started: float) -> None:
    held = time.monotonic() - started
    if held > LONG_TRANSACTION_S:
        log.warning(
            "a %s transaction stayed open %.1f s; others cannot commit meanwhile", kind, held
        )
