"""Shared file: several processes writing to one database at once, app against raw sqlite3.

The app side runs triage-like and assign-like transactions through
``Database.write_core()`` (read the ticket, change it, record an audit event: what
triage and assignment do, on the transaction they use); the floor runs as many
``BEGIN IMMEDIATE`` transactions of the same statements (read the row,
version-checked update, audit insert) on a plain ``sqlite3`` connection with the
same pragmas. Both sides bump ``ticket.version``
once per transaction on a small set of hot tickets, so the sum of versions proves
that no update was lost. Sides alternate by round; each round gets a fresh copy.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from bench.stats import median, ratio

#: Tickets every writer updates in turn: contention on the same rows is the point.
HOT_TICKETS = 8
LOCK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Round:
    side: str
    committed: int
    errors: int
    lost_updates: int
    elapsed_s: float
    #: Mean time from asking for the write lock to holding it (app: includes opening
    #: the connection, which the app does per transaction).
    mean_wait_ms: float
    #: Locks refused at once and retried (app only; SQLite's busy handler hides raw's).
    retries: int

    @property
    def tx_per_s(self) -> float:
        return self.committed / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class SharedResult:
    processes: int
    transactions: int
    rounds: list[Round]

    def summary(self) -> dict[str, Any]:
        app = [r for r in self.rounds if r.side == "app"]
        raw = [r for r in self.rounds if r.side == "raw"]
        app_rate = median([r.tx_per_s for r in app])
        raw_rate = median([r.tx_per_s for r in raw])
        return {
            "processes": self.processes,
            "transactions_per_process": self.transactions,
            "app_tx_per_s": app_rate,
            "raw_tx_per_s": raw_rate,
            "ratio": ratio(app_rate, raw_rate),
            "app_mean_lock_wait_ms": median([r.mean_wait_ms for r in app]),
            "raw_mean_lock_wait_ms": median([r.mean_wait_ms for r in raw]),
            "app_retries": sum(r.retries for r in app),
            "errors": sum(r.errors for r in self.rounds),
            "lost_updates": sum(r.lost_updates for r in self.rounds),
            "rounds": len(app),
        }


def _hot_ids(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id FROM ticket ORDER BY id LIMIT ?", (HOT_TICKETS,))
        return [row[0] for row in rows]


def _version_sum(path: Path, ids: list[int]) -> int:
    marks = ",".join("?" * len(ids))
    conn = sqlite3.connect(path)
    try:
        query = f"SELECT SUM(version) FROM ticket WHERE id IN ({marks})"
        return conn.execute(query, ids).fetchone()[0]
    finally:
        conn.close()


#: The floor's transaction: the statements the ORM sends for the app's, in its order
#: (read the whole ticket row, insert the audit row, the version-checked update), so
#: the two sides differ only in the code around them. A floor of bare one-row
#: updates wrote one page per commit where the app writes several (the ticket row,
#: on assign an index entry, the audit row and its index entry): work the app's
#: transaction exists to do and the old floor never paid for.
_READ = "SELECT * FROM ticket WHERE id = ?"
_TRIAGE = (
    "UPDATE ticket SET estimate_hours = ?, updated_at = ?, updated_by = ?, "
    "version = ? WHERE id = ? AND version = ?"
)
_ASSIGN = (
    "UPDATE ticket SET assigned_tech_id = ?, updated_at = ?, updated_by = ?, "
    "version = ? WHERE id = ? AND version = ?"
)
_AUDIT = (
    "INSERT INTO audit_event (at, actor, action, entity, entity_id, detail, before, after) "
    "VALUES (?, ?, ?, 'ticket', ?, 'bench', NULL, NULL)"
)


def _raw_worker(path: str, ids: list[int], count: int, n: int, barrier: Barrier, out: Any) -> None:
    conn = sqlite3.connect(path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
    # The app's shared-file settings (store/engine.py), so only the code on top differs.
    conn.execute(f"PRAGMA busy_timeout = {int(LOCK_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA journal_mode = DELETE")
    techs = [row[0] for row in conn.execute("SELECT id FROM technician ORDER BY id")]
    conn.row_factory = sqlite3.Row
    actor = f"raw-{n}"
    committed = errors = 0
    waited = 0.0
    barrier.wait()
    start = time.monotonic()
    for i in range(count):
        ticket_id = ids[(i + n) % len(ids)]
        asked = time.monotonic()
        try:
            conn.execute("BEGIN IMMEDIATE")
            waited += time.monotonic() - asked
            ticket = conn.execute(_READ, (ticket_id,)).fetchone()
            version = ticket["version"]
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
            if i % 2 == 0:  # the same triage-like and assign-like changes as the app
                value = (ticket["estimate_hours"] or 0) + 0.25
                sql, action = _TRIAGE, "ticket.triage"
            else:
                holder = ticket["assigned_tech_id"]
                current = techs.index(holder) if holder in techs else -1
                value = techs[(current + 1) % len(techs)]
                sql, action = _ASSIGN, "ticket.assign"
            conn.execute(_AUDIT, (now, actor, action, ticket_id))
            changed = conn.execute(sql, (value, now, actor, version + 1, ticket_id, version))
            if changed.rowcount != 1:
                raise sqlite3.OperationalError("version check failed under BEGIN IMMEDIATE")
            conn.execute("COMMIT")
            committed += 1
        except sqlite3.OperationalError:
            errors += 1
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    out.put(
        {
            "start": start,
            "end": time.monotonic(),
            "committed": committed,
            "errors": errors,
            "waited": waited,
            "retries": 0,
        }
    )
    conn.close()


def _app_worker(path: str, ids: list[int], count: int, n: int, barrier: Barrier, out: Any) -> None:
    from sqlalchemy import event

    from dispatch_tui.services import audit
    from dispatch_tui.store import Database, StoreError, writes
    from dispatch_tui.store.models import Technician
    from dispatch_tui.store.types import utcnow

    db = Database(path, lock_timeout=LOCK_TIMEOUT_S)
    retries = 0

    def on_error(context: Any) -> None:
        nonlocal retries
        if "locked" in str(context.original_exception).lower():
            retries += 1

    # SQLAlchemy's public error hook: counts the lock refusals Database.write() retries.
    event.listen(db.engine, "handle_error", on_error)
    with db.read() as session:
        techs = [t.id for t in session.query(Technician).all()]
    actor = f"bench-{n}"
    committed = errors = 0
    waited = 0.0
    barrier.wait()
    start = time.monotonic()
    for i in range(count):
        ticket_id = ids[(i + n) % len(ids)]
        asked = time.monotonic()
        try:
            # What services/triage.py and services/dispatch.py do inside the lock, on
            # the same Core write transaction (Database.write_core): read the ticket
            # row, write the audit event, one version-checked UPDATE of the changed
            # columns (store/writes.py); the gate count, technician lookup and policy
            # those services also read are left out, as the floor has no twin.
            with db.write_core() as session:
                waited += time.monotonic() - asked
                ticket = writes.ticket_row(session, ticket_id)
                assert ticket is not None
                if i % 2 == 0:  # triage-like: refine the estimate
                    values = {"estimate_hours": (ticket.estimate_hours or 0) + 0.25}
                    action = "ticket.triage"
                else:  # assign-like: hand it to the next technician
                    holder = ticket.assigned_tech_id
                    current = techs.index(holder) if holder in techs else -1
                    values = {"assigned_tech_id": techs[(current + 1) % len(techs)]}
                    action = "ticket.assign"
                values |= {"updated_at": utcnow(), "updated_by": actor}
                audit.record(session, actor, action, "ticket", ticket_id, "bench")
                writes.update_versioned(session, writes.TICKET, ticket_id, ticket.version, values)
            committed += 1
        except StoreError:
            errors += 1
    out.put(
        {
            "start": start,
            "end": time.monotonic(),
            "committed": committed,
            "errors": errors,
            "waited": waited,
            "retries": retries,
        }
    )
    db.dispose()


def _copy_to_disk(seed_db: Path, path: Path) -> None:
    """Copy the seed and flush the copy before the clock starts.

    Otherwise the first commit's fsync writes out the whole fresh copy (about 0.2 s
    for the 100k file here), a fixed cost added to both sides' time that pulls the
    ratio towards 1 and varies with the disk.
    """
    shutil.copyfile(seed_db, path)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _round(side: str, seed_db: Path, work: Path, processes: int, count: int) -> Round:
    path = work / f"shared-{side}.db"
    _copy_to_disk(seed_db, path)
    ids = _hot_ids(path)
    before = _version_sum(path, ids)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    out = ctx.Queue()
    target = _app_worker if side == "app" else _raw_worker
    workers = [
        ctx.Process(target=target, args=(str(path), ids, count, n, barrier, out))
        for n in range(processes)
    ]
    for w in workers:
        w.start()
    reports = [out.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    committed = sum(r["committed"] for r in reports)
    lost = committed - (_version_sum(path, ids) - before)
    path.unlink(missing_ok=True)
    return Round(
        side=side,
        committed=committed,
        errors=sum(r["errors"] for r in reports),
        lost_updates=lost,
        elapsed_s=max(r["end"] for r in reports) - min(r["start"] for r in reports),
        mean_wait_ms=1000 * sum(r["waited"] for r in reports) / max(1, committed),
        retries=sum(r["retries"] for r in reports),
    )


def measure(
    seed_db: Path, work: Path, processes: int, transactions: int, rounds: int
) -> SharedResult:
    work.mkdir(parents=True, exist_ok=True)
    results: list[Round] = []
    for n in range(rounds):
        for side in ("raw", "app") if n % 2 == 0 else ("app", "raw"):
            results.append(_round(side, seed_db, work, processes, transactions))
    return SharedResult(processes, transactions, results)
