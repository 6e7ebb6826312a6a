"""Two or more dispatchers on one file: no lost update, whether in the app or in SQLite.

Issue 6, tests 1 and 2. Each has a control that shows the test can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _workloads import (
    increment_locked,
    increment_locked_core,
    increment_unlocked,
    make_counter_db,
    run_counter,
)

from dispatch_tui.services import Desk
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database, StaleRecord
from dispatch_tui.store.models import Ticket

WORKERS = 4
TIMES = 50
#: Time between reading the counter and writing it back: the window in which a
#: second writer, were it let in, would read the same value.
THINK_S = 0.002


def test_second_of_two_stale_saves_is_refused_and_the_first_survives(desk: Desk) -> None:
    ticket = add_ticket(desk, client="Acme", summary="Printer jam")
    alice_db, bob_db = Database(desk.db.path), Database(desk.db.path)
    # Both dispatchers load version 1 and look at it for a while: no session is open.
    with alice_db.read() as session:
        alices = session.get(Ticket, ticket.id)
    with bob_db.read() as session:
        bobs = session.get(Ticket, ticket.id)
    assert alices.version == bobs.version == 1

    # Each saves the copy they loaded, with their edit, through the store: the ORM
    # writes UPDATE ... WHERE id = ? AND version = 1.
    with alice_db.write() as session:
        mine = session.merge(alices, load=False)
        mine.category, mine.updated_by = "printing", "alice"

    stale = pytest.raises(StaleRecord, match="ticket record was changed by someone else")
    with stale, bob_db.write() as session:
        mine = session.merge(bobs, load=False)
        mine.category, mine.updated_by = "hardware", "bob"

    with desk.db.read() as session:
        stored = session.get(Ticket, ticket.id)
    assert (stored.category, stored.updated_by, stored.version) == ("printing", "alice", 2)


@pytest.mark.slow
def test_concurrent_read_modify_write_never_loses_an_increment(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    make_counter_db(path)
    outcome = run_counter(
        path, increment_locked, workers=WORKERS, times=TIMES, think=THINK_S, timeout=120
    )
    assert outcome.exit_codes == [0] * WORKERS
    assert outcome.integrity == ["ok"]
    assert outcome.landed == WORKERS * TIMES
    assert outcome.value == WORKERS * TIMES


@pytest.mark.slow
def test_concurrent_core_writes_never_lose_an_increment(tmp_path: Path) -> None:
    """The same through ``Database.write_core()``, which triage and assignment use."""
    path = tmp_path / "desk.db"
    make_counter_db(path)
    outcome = run_counter(
        path, increment_locked_core, workers=WORKERS, times=TIMES, think=THINK_S, timeout=120
    )
    assert outcome.exit_codes == [0] * WORKERS
    assert outcome.integrity == ["ok"]
    assert outcome.landed == WORKERS * TIMES
    assert outcome.value == WORKERS * TIMES


@pytest.mark.slow
def test_control_without_locking_loses_increments(tmp_path: Path) -> None:
    """The same workload with SQLite's locks switched off (the unix-none VFS) must go
    wrong, or the test above could not tell working locks from none.

    The think time between read and write makes the race window milliseconds wide
    against a transaction of well under a millisecond otherwise, so with four
    workers starting together nearly every increment collides; one run is enough.
    """
    path = tmp_path / "desk.db"
    make_counter_db(path)
    outcome = run_counter(
        path, increment_unlocked, workers=WORKERS, times=TIMES, think=THINK_S, timeout=120
    )
    assert outcome.exit_codes == [0] * WORKERS
    damaged = outcome.value != WORKERS * TIMES or outcome.integrity != ["ok"]
    assert damaged, f"no lost update without locking: {outcome}"
    print(
        f"unlocked control: counter {outcome.value}/{WORKERS * TIMES}, "
        f"rows {outcome.landed}, integrity {outcome.integrity[:1]}"
    )
