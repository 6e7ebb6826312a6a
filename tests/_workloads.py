"""Multi-process workloads on one database file, shared by the shared-file, crash and
slow-file-system tests.

Child processes are made with ``os.fork()`` from the test process: they start in
milliseconds with everything already imported (a fresh interpreter takes over a
second to import SQLAlchemy here, which would blow the time budget of 20 kill
rounds), and they are real processes with their own file descriptors and locks,
which is all SQLite's locking and a ``kill -9`` care about. The parent holds no
open connection when it forks; a child never returns into pytest (``os._exit``).
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import signal
import sqlite3
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.request import pathname2url

from dispatch_tui.store import Database

ACCOUNTS = 200
START_BALANCE = 100
#: Big rows spread the accounts over ~100 pages, so a transfer touching all of them
#: is a multi-page transaction that must be atomic.
PADDING = 1800
#: A tiny page cache makes SQLite spill dirty pages into the database file in the
#: middle of a transaction: with a rollback journal that is safe (the journal holds
#: the originals), with journal_mode=OFF it puts half a transaction on disk.
SPILL_CACHE_PAGES = 10


def fork(fn: Callable[..., None], *args: object) -> int:
    """Run ``fn(*args)`` in a child process; returns its pid. Exit 0 on success, 1 on error."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        fn(*args)
        code = 0
    except BaseException:  # noqa: BLE001 - the child must never unwind into pytest
        traceback.print_exc()
    finally:
        os._exit(code)


def wait(pid: int, timeout: float) -> int:
    """The child's exit status, killing it if it outlives ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    raise TimeoutError(f"child {pid} did not finish within {timeout} s")


def kill9(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{pathname2url(str(path))}" + (f"?{query}" if query else "")


# -- a counter incremented by read-modify-write -----------------------------------------


def make_counter_db(path: Path) -> None:
    Database(path, create=True).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
        conn.execute("CREATE TABLE landed (id INTEGER PRIMARY KEY, worker INTEGER, n INTEGER)")
        conn.execute("INSERT INTO counter VALUES (1, 0)")
    conn.close()


def _await_go(go_fd: int) -> None:
    # Every worker blocks here until the parent has forked them all, so they start
    # together and really contend.
    os.read(go_fd, 1)


def increment_locked(path: str, worker: int, times: int, go_fd: int, think: float) -> None:
    """Read, think, write, through ``Database.write()`` (BEGIN IMMEDIATE)."""
    db = Database(path, lock_timeout=60.0, check_at_open=False)
    _await_go(go_fd)
    for n in range(times):
        with db.write() as session:
            conn = session.connection()
            value = conn.exec_driver_sql("SELECT value FROM counter WHERE id = 1").scalar_one()
            time.sleep(think)
            conn.exec_driver_sql("UPDATE counter SET value = ? WHERE id = 1", (value + 1,))
            conn.exec_driver_sql("INSERT INTO landed (worker, n) VALUES (?, ?)", (worker, n))
    db.dispose()


def increment_locked_core(path: str, worker: int, times: int, go_fd: int, think: float) -> None:
    """The same read, think, write through ``Database.write_core()`` (no ORM session)."""
    db = Database(path, lock_timeout=60.0, check_at_open=False)
    _await_go(go_fd)
    for n in range(times):
        with db.write_core() as conn:
            value = conn.exec_driver_sql("SELECT value FROM counter WHERE id = 1").scalar_one()
            time.sleep(think)
            conn.exec_driver_sql("UPDATE counter SET value = ? WHERE id = 1", (value + 1,))
            conn.exec_driver_sql("INSERT INTO landed (worker, n) VALUES (?, ?)", (worker, n))
    db.dispose()


def increment_unlocked(path: str, worker: int, times: int, go_fd: int, think: float) -> None:
    """The same read-think-write with SQLite's locking switched off (the unix-none VFS).

    A plain deferred transaction: with real locks it would be serialised or refused
    (SQLITE_BUSY); with no locks two workers read the same value and both write
    value + 1, so increments are lost. Errors (a torn read of a page another worker
    is writing) are swallowed: the parent counts what landed.
    """
    conn = sqlite3.connect(uri(Path(path), vfs="unix-none"), uri=True, isolation_level=None)
    _await_go(go_fd)
    for n in range(times):
        try:
            conn.execute("BEGIN")
            value = conn.execute("SELECT value FROM counter WHERE id = 1").fetchone()[0]
            time.sleep(think)
            conn.execute("UPDATE counter SET value = ? WHERE id = 1", (value + 1,))
            conn.execute("INSERT INTO landed (worker, n) VALUES (?, ?)", (worker, n))
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
    conn.close()


@dataclass(frozen=True)
class CounterOutcome:
    value: int
    landed: int
    integrity: list[str]
    exit_codes: list[int]


def run_counter(
    path: Path,
    worker: Callable[..., None],
    *,
    workers: int,
    times: int,
    think: float,
    timeout: float,
) -> CounterOutcome:
    read_fd, write_fd = os.pipe()
    pids = [fork(worker, str(path), w, times, read_fd, think) for w in range(workers)]
    os.write(write_fd, b"g" * workers)
    try:
        codes = [wait(pid, timeout) for pid in pids]
    finally:
        os.close(read_fd)
        os.close(write_fd)
    conn = sqlite3.connect(path)
    try:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        try:
            value = conn.execute("SELECT value FROM counter WHERE id = 1").fetchone()[0]
            landed = conn.execute("SELECT count(*) FROM landed").fetchone()[0]
        except sqlite3.DatabaseError:
            value = landed = -1
    finally:
        conn.close()
    return CounterOutcome(value, landed, integrity, codes)


# -- transfers between accounts, killed mid-way ---------------------------------------


def make_accounts_db(path: Path) -> None:
    Database(path, create=True).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, pad BLOB)"
        )
        conn.executemany(
            "INSERT INTO account VALUES (?, ?, zeroblob(?))",
            [(i, START_BALANCE, PADDING) for i in range(1, ACCOUNTS + 1)],
        )
    conn.close()


def _transfer_statements(rng: random.Random) -> list[tuple[int, int]]:
    """Deltas for every account, summing to zero, in a random order."""
    deltas = [rng.randint(-5, 5) for _ in range(ACCOUNTS - 1)]
    deltas.append(-sum(deltas))
    ids = list(range(1, ACCOUNTS + 1))
    rng.shuffle(ids)
    return list(zip(deltas, ids, strict=True))


def transfer_forever_safe(path: str, ready_fd: int, seed: int, pause: float = 0.0) -> None:
    """Transfers through ``Database.write()`` until killed; signals after the first commit.

    ``pause`` between transactions: a writer in a tight loop re-takes the lock at
    once and starves readers (a backup then waits seconds for its read lock), which
    no desk of people produces; the crash test wants no pause, the backup test some.
    """
    rng = random.Random(seed)
    db = Database(path, check_at_open=False)
    signalled = False
    while True:
        with db.write() as session:
            conn = session.connection()
            conn.exec_driver_sql(f"PRAGMA cache_size = {SPILL_CACHE_PAGES}")
            for delta, account in _transfer_statements(rng):
                conn.exec_driver_sql(
                    "UPDATE account SET balance = balance + ? WHERE id = ?", (delta, account)
                )
        if not signalled:
            os.write(ready_fd, b"r")
            signalled = True
        if pause:
            time.sleep(pause)


def transfer_forever_unsafe(path: str, ready_fd: int, seed: int) -> None:
    """The control: the same transfers with no journal and no syncs (journal_mode=OFF)."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA cache_size = {SPILL_CACHE_PAGES}")
    signalled = False
    while True:
        conn.execute("BEGIN IMMEDIATE")
        for delta, account in _transfer_statements(rng):
            conn.execute("UPDATE account SET balance = balance + ? WHERE id = ?", (delta, account))
        conn.execute("COMMIT")
        if not signalled:
            os.write(ready_fd, b"r")
            signalled = True


@dataclass(frozen=True)
class CrashOutcome:
    opened: bool
    integrity: list[str]
    total: int | None

    @property
    def damaged(self) -> bool:
        return not self.opened or self.integrity != ["ok"] or self.total != ACCOUNTS * START_BALANCE


def crash_once(
    path: Path, writer: Callable[..., None], rng: random.Random, *, max_delay: float = 0.15
) -> None:
    """Start a writer, let it commit at least once, then SIGKILL it at a random moment."""
    read_fd, write_fd = os.pipe()
    pid = fork(writer, str(path), write_fd, rng.randrange(1 << 30))
    try:
        ready, _, _ = select.select([read_fd], [], [], 30)
        if not ready:
            raise TimeoutError("the writer never committed")
        time.sleep(rng.uniform(0.0, max_delay))
    finally:
        kill9(pid)
        os.close(read_fd)
        os.close(write_fd)


def inspect_after_crash(path: Path, *, through_app: bool) -> CrashOutcome:
    """Open the file as the next dispatcher would and check it.

    ``through_app``: open with ``Database`` (which rolls back a hot journal and runs
    quick_check at open); otherwise a plain sqlite3 connection, for the control.
    """
    try:
        if through_app:
            Database(path).dispose()
        conn = sqlite3.connect(path)
        try:
            integrity = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            total = conn.execute("SELECT sum(balance) FROM account").fetchone()[0]
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - any failure to open or read is damage
        return CrashOutcome(False, [f"{type(exc).__name__}: {exc}"], None)
    return CrashOutcome(True, integrity, total)
