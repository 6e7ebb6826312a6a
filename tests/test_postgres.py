"""What is particular to PostgreSQL: types on the server, the writer lock under real
concurrency (with a control that shows the test can fail), the gate race, the
NOTIFY change feed, and the file-only commands refusing a URL.

Every test here needs a server: they skip unless DISPATCH_TUI_TEST_POSTGRES is set
(``.ci/run`` sets it). Each gets a fresh schema from the ``pg_url`` fixture.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _workloads import fork, wait
from helpers import assert_one_line_error, cli
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dispatch_tui.errors import GateClosed
from dispatch_tui.services import Desk, audit, dispatch, triage
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database, DatabaseLocked, DatabaseUnusable, schema
from dispatch_tui.store.changes import ChangeWatcher
from dispatch_tui.store.models import Client, Ticket

psycopg = pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg")

WORKERS = 4
TIMES = 15
THINK_S = 0.005


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url, create=True)
    yield database
    database.dispose()


# -- types and schema ---------------------------------------------------------------------


def test_times_are_stored_as_naive_utc_timestamps(pg: Database) -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with pg.write() as session:
        client = Client(name="Acme")
        session.add(client)
        session.flush()
        session.add(Ticket(client_id=client.id, summary="x", created_at=moment))
    with pg.read() as session:
        conn = session.connection()
        kind = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'ticket' "
                "AND column_name = 'created_at'"
            )
        ).scalar()
        raw = conn.execute(text("SELECT created_at FROM ticket")).scalar()
        stored = session.get(Ticket, 1)
    assert kind == "timestamp without time zone"
    assert raw == moment.replace(tzinfo=None)
    assert stored is not None and stored.created_at == moment and stored.created_at.tzinfo is UTC


def test_newer_schema_is_refused_and_untouched(pg: Database, pg_url: str) -> None:
    newer = str(schema.SCHEMA_VERSION + 1)
    with pg.write() as session:
        session.connection().execute(
            text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": newer}
        )
    pg.dispose()
    with pytest.raises(DatabaseUnusable, match="newer than this dispatch-tui"):
        Database(pg_url)
    with psycopg.connect(libpq(pg_url)) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (newer,)


def test_an_empty_database_needs_init_and_a_wrong_password_is_one_line(pg_url: str) -> None:
    with pytest.raises(DatabaseUnusable, match="is empty; run 'dispatch-tui init"):
        Database(pg_url)
    wrong = make_url(pg_url).set(password="not-the-password").render_as_string(False)
    try:
        Database(wrong, lock_timeout=2).dispose()
    except DatabaseUnusable as refused:
        message = str(refused)
    else:
        pytest.skip("the test server trusts every password on loopback")
    assert "not-the-password" not in message and "\n" not in message
    assert message.startswith("cannot use the PostgreSQL database")


# -- the writer lock under real concurrency -------------------------------------------------


def _make_counter(url: str) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE counter (id integer PRIMARY KEY, value integer NOT NULL)")
        conn.execute("CREATE TABLE landed (id serial PRIMARY KEY, worker integer, n integer)")
        conn.execute("INSERT INTO counter VALUES (1, 0)")


def _increment_locked(url: str, worker: int, times: int, go_fd: int, think: float) -> None:
    """Read, think, write through ``Database.write()`` (the advisory writer lock)."""
    db = Database(url, lock_timeout=60.0)
    os.read(go_fd, 1)
    for n in range(times):
        with db.write() as session:
            conn = session.connection()
            value = conn.execute(text("SELECT value FROM counter WHERE id = 1")).scalar_one()
            time.sleep(think)
            conn.execute(text("UPDATE counter SET value = :v WHERE id = 1"), {"v": value + 1})
            conn.execute(
                text("INSERT INTO landed (worker, n) VALUES (:w, :n)"), {"w": worker, "n": n}
            )
    db.dispose()


def _increment_unlocked(url: str, worker: int, times: int, go_fd: int, think: float) -> None:
    """The control: the same read-think-write in a plain READ COMMITTED transaction,
    without the writer lock. Two workers read the same value and both write value + 1."""
    conn = psycopg.connect(libpq(url))
    os.read(go_fd, 1)
    for n in range(times):
        value = conn.execute("SELECT value FROM counter WHERE id = 1").fetchone()[0]
        time.sleep(think)
        conn.execute("UPDATE counter SET value = %s WHERE id = 1", (value + 1,))
        conn.execute("INSERT INTO landed (worker, n) VALUES (%s, %s)", (worker, n))
        conn.commit()
    conn.close()


def _run_counter(url: str, worker) -> tuple[int, int, list[int]]:
    read_fd, write_fd = os.pipe()
    pids = [fork(worker, url, w, TIMES, read_fd, THINK_S) for w in range(WORKERS)]
    os.write(write_fd, b"g" * WORKERS)
    try:
        codes = [wait(pid, 120) for pid in pids]
    finally:
        os.close(read_fd)
        os.close(write_fd)
    with psycopg.connect(libpq(url)) as conn:
        value = conn.execute("SELECT value FROM counter").fetchone()[0]
        landed = conn.execute("SELECT count(*) FROM landed").fetchone()[0]
    return value, landed, codes


@pytest.mark.slow
def test_every_read_modify_write_lands_under_the_writer_lock(pg_url: str) -> None:
    Database(pg_url, create=True).dispose()
    _make_counter(pg_url)
    value, landed, codes = _run_counter(pg_url, _increment_locked)
    assert codes == [0] * WORKERS
    assert (value, landed) == (WORKERS * TIMES, WORKERS * TIMES)


@pytest.mark.slow
def test_the_control_without_the_lock_loses_updates(pg_url: str) -> None:
    """Shows the test above can fail: the same workload without the lock loses increments."""
    Database(pg_url, create=True).dispose()
    _make_counter(pg_url)
    value, landed, codes = _run_counter(pg_url, _increment_unlocked)
    assert codes == [0] * WORKERS
    assert landed == WORKERS * TIMES
    assert value < WORKERS * TIMES, "no update was lost: the control did not contend"


def test_a_writer_lock_held_past_the_timeout_is_a_clear_error(pg: Database, pg_url: str) -> None:
    impatient = Database(pg_url, lock_timeout=0.5)
    holder = Database(pg_url)
    try:
        with holder.write() as session:
            session.add(Client(name="Held"))
            session.flush()
            started = time.monotonic()
            with pytest.raises(DatabaseLocked, match="nothing was saved"), impatient.write() as s:
                s.add(Client(name="Lost"))
            assert time.monotonic() - started >= 0.4
        with impatient.write() as session:  # free again: the next save goes through
            session.add(Client(name="Later"))
        with pg.read() as session:
            names = session.execute(text("SELECT name FROM client ORDER BY name")).scalars()
            assert list(names) == ["Held", "Later"]
    finally:
        impatient.dispose()
        holder.dispose()


# -- the triage gate under a race ----------------------------------------------------------


def _intake_holding_the_lock(url: str, ready_fd: int, hold_s: float) -> None:
    """Another dispatcher's intake in another process: record a new ticket, hold the
    writer lock a moment, then commit."""
    db = Database(url)
    with db.write() as session:
        client_id = session.execute(text("SELECT min(id) FROM client")).scalar_one()
        session.add(Ticket(client_id=client_id, summary="Server room is flooding"))
        session.flush()
        os.write(ready_fd, b"l")
        time.sleep(hold_s)
    db.dispose()


def test_a_concurrent_intake_closes_the_gate_inside_the_assign_transaction(pg_url: str) -> None:
    desk = Desk(Database(pg_url, create=True), "tester")
    add_technician(desk, name="Dev Sharma", tier=2, skills="network")
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    triage.triage_ticket(
        desk,
        ticket_id,
        ticket_type="incident",
        category="network",
        subcategory="vpn",
        impact="medium",
        urgency="medium",
        estimate_hours=1.0,
        required_skill="network",
        contact="Tom Becker",
    )
    assert dispatch.gate_state(desk).open
    hold_s = 0.5
    read_fd, write_fd = os.pipe()
    pid = fork(_intake_holding_the_lock, pg_url, write_fd, hold_s)
    try:
        assert os.read(read_fd, 1) == b"l"
        started = time.monotonic()
        with pytest.raises(GateClosed) as refused:
            dispatch.assign_ticket(desk, ticket_id, "Dev Sharma")
        waited = time.monotonic() - started
    finally:
        assert wait(pid, 30) == 0
        os.close(read_fd)
        os.close(write_fd)
    assert refused.value.waiting == 1
    assert waited >= hold_s * 0.5, f"assign did not wait for the other writer ({waited:.3f} s)"
    with desk.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "triaged" and ticket.assigned_tech_id is None
    desk.db.dispose()


# -- the change feed ------------------------------------------------------------------------


def _next_change(watcher: ChangeWatcher, within_s: float = 2.0):
    """The watcher's next poll that reports a change, within ``within_s``: the server
    sends a NOTIFY at commit, but it reaches the listening connection a moment later,
    and a poll only takes what has already arrived (the app polls twice a second)."""
    deadline = time.monotonic() + within_s
    while True:
        changes = watcher.poll()
        if changes.changed or time.monotonic() >= deadline:
            return changes
        time.sleep(0.01)


def test_only_commits_that_change_something_notify(pg: Database) -> None:
    desk = Desk(pg, "tester")
    with ChangeWatcher(pg) as watcher:
        with pg.write() as session:  # took the lock, wrote nothing
            session.execute(text("SELECT count(*) FROM ticket"))
        assert watcher.poll().changed is False
        add_ticket(desk, client="Acme", summary="VPN down")
        changes = _next_change(watcher)
        actions = [e.action for e in changes.events]
        assert changes.changed and actions == ["client.create", "ticket.create"]
        assert datetime.fromisoformat(changes.events[0].at) <= datetime.now(UTC).replace(
            tzinfo=None
        )


def test_core_writes_notify_too_and_only_when_they_change_something(pg: Database) -> None:
    """Database.write_core() (triage, assignment) has no session to flush: it sends the
    same NOTIFY at commit, and a transaction that wrote nothing sends none."""
    with ChangeWatcher(pg) as watcher:
        with pg.write_core() as conn:
            conn.execute(text("SELECT count(*) FROM ticket"))
        assert watcher.poll().changed is False
        with pg.write_core() as conn:
            audit.record(conn, "tester", "ticket.update", "ticket", None, "core")
        changes = _next_change(watcher)
        assert changes.changed and [e.action for e in changes.events] == ["ticket.update"]


def test_other_schemas_on_the_same_server_do_not_wake_the_watcher(
    pg: Database, pg_url: str
) -> None:
    base = os.environ["DISPATCH_TUI_TEST_POSTGRES"]
    mine = pg_url.rsplit("application_name=", 1)[1]
    other_schema = f"{mine}_other"
    with psycopg.connect(libpq(base), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {other_schema}")
    other_url = pg_url.replace(f"search_path%3D{mine}", f"search_path%3D{other_schema}", 1)
    try:
        with ChangeWatcher(pg) as watcher:
            other = Database(other_url, create=True)
            try:
                add_ticket(Desk(other, "bob"), client="Acme", summary="elsewhere")
            finally:
                other.dispose()
            assert watcher.poll().changed is False
    finally:
        with psycopg.connect(libpq(base), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {other_schema} CASCADE")


def test_a_dropped_listener_reconnects_and_catches_up_from_the_log(
    pg: Database, pg_url: str
) -> None:
    desk = Desk(pg, "tester")
    add_ticket(desk, client="Acme", summary="before the watcher")
    with ChangeWatcher(pg) as watcher:
        base = os.environ["DISPATCH_TUI_TEST_POSTGRES"]
        with psycopg.connect(libpq(base), autocommit=True) as admin:
            # The server restarts, or the network drops the watcher's connection.
            # Every connection of this test goes, the pool's too (pre-ping replaces those).
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (pg_url.rsplit("application_name=", 1)[1],),
            )
        add_ticket(desk, client="Acme", summary="while it was gone")
        changes = None
        for _ in range(3):  # the first poll may only notice the dead socket
            with contextlib.suppress(DatabaseUnusable):
                changes = watcher.poll()
            if changes is not None and changes.events:
                break
    assert changes is not None and changes.changed
    assert [e.action for e in changes.events] == ["ticket.create"]


# -- commands that are about a file ------------------------------------------------------


def test_doctor_and_backup_refuse_a_server_with_one_line(
    pg: Database, pg_url: str, tmp_path: Path
) -> None:
    doctor = cli("doctor", "--db", pg_url)
    assert doctor.returncode == 2 and "pg_dump" in doctor.stdout
    assert "Traceback" not in doctor.stderr
    assert_one_line_error(cli("backup", str(tmp_path / "copy.db"), "--db", pg_url), 2, "pg_dump")
