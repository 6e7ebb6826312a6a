"""The change feed other dispatchers' apps follow, and "being triaged by NAME" claims.

Issue 6, test 4 at the store level: another process commits; the watcher sees it
within the 2 s bound.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from dispatch_tui.errors import NotFound
from dispatch_tui.services import Desk
from dispatch_tui.services.claims import active_claims, claim, release
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database
from dispatch_tui.store.changes import ChangeWatcher

BOUND_S = 2.0
POLL_S = 0.1


def test_nothing_to_report_until_someone_commits(desk: Desk) -> None:
    add_ticket(desk, client="Acme", summary="Before the watcher")
    with ChangeWatcher(desk.db) as watcher:
        assert watcher.poll().changed is False
        other = Desk(Database(desk.db.target), "bob")
        add_ticket(other, client="Acme", summary="VPN down")
        changes = watcher.poll()
        assert changes.changed and [e.action for e in changes.events] == ["ticket.create"]
        assert changes.events[0].actor == "bob"
        assert watcher.poll().changed is False  # reported once only


@pytest.mark.sqlite_only
def test_watcher_holds_no_lock_between_polls(desk: Desk) -> None:
    """An idle reader would stop every commit in rollback-journal mode; the watcher
    must leave the file free: another connection can take an EXCLUSIVE lock."""
    with ChangeWatcher(desk.db) as watcher:
        watcher.poll()
        other = sqlite3.connect(desk.db.path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            other.execute("ROLLBACK")
        finally:
            other.close()


def test_a_backlog_comes_in_bounded_batches(desk: Desk) -> None:
    add_ticket(desk, client="Acme", summary="creates the client before the watcher starts")
    with ChangeWatcher(desk.db, batch=3) as watcher:
        for n in range(5):
            add_ticket(desk, client="Acme", summary=f"ticket {n}")
        first = watcher.poll()
        second = watcher.poll()  # no new commit, but the backlog is still owed
        third = watcher.poll()
    assert (len(first.events), first.truncated) == (3, True)
    assert (len(second.events), second.truncated) == (2, False)
    assert third.changed is False
    assert [e.id for e in first.events + second.events] == sorted(
        e.id for e in first.events + second.events
    )


@pytest.mark.slow
def test_a_commit_by_another_process_shows_within_two_seconds(desk: Desk) -> None:
    add_ticket(desk, client="Acme", summary="creates the client before the watcher starts")
    with ChangeWatcher(desk.db) as watcher:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dispatch_tui",
                "--as",
                "bob",
                "ticket",
                "add",
                "--db",
                str(desk.db.target),
                "--client",
                "Acme",
                "--summary",
                "Server down",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        seen = []
        deadline = time.monotonic() + 60  # the other process takes a while to start
        while not seen and time.monotonic() < deadline:
            exited = proc.poll() is not None
            seen = watcher.poll().events
            if exited and not seen:
                break  # it failed (or committed nothing): no point waiting
            if not seen:
                time.sleep(POLL_S)
        noticed = datetime.now(UTC)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    assert [(e.action, e.actor) for e in seen] == [("ticket.create", "bob")]
    committed = datetime.fromisoformat(seen[0].at).replace(tzinfo=UTC)
    assert noticed - committed < timedelta(seconds=BOUND_S)


# -- claims ------------------------------------------------------------------------------


@pytest.fixture
def ticket_id(desk: Desk) -> int:
    return add_ticket(desk, client="Acme", summary="Printer jam").id


def test_claims_inform_and_never_block(desk: Desk, ticket_id: int) -> None:
    alice, bob = Desk(desk.db, "alice"), Desk(desk.db, "bob")
    mine = claim(alice, ticket_id)
    assert mine.mine and mine.holder == "alice"
    theirs = claim(bob, ticket_id)  # bob opens it too: he is told, not stopped
    assert (theirs.mine, theirs.holder) == (False, "alice")
    assert active_claims(bob, [ticket_id])[ticket_id].holder == "alice"
    assert release(bob, ticket_id) is False  # bob cannot drop alice's claim
    assert release(alice, ticket_id) is True
    assert active_claims(bob, [ticket_id]) == {}


def test_a_claim_is_renewed_and_lapses_when_its_holder_goes(desk: Desk, ticket_id: int) -> None:
    alice, bob = Desk(desk.db, "alice"), Desk(desk.db, "bob")
    t0 = datetime.now(UTC)
    first = claim(alice, ticket_id, ttl=60, now=t0)
    renewed = claim(alice, ticket_id, ttl=60, now=t0 + timedelta(seconds=30))
    assert renewed.claimed_at == first.claimed_at
    assert renewed.expires_at == t0 + timedelta(seconds=90)
    later = t0 + timedelta(seconds=91)  # alice's app died; nobody renewed
    assert active_claims(bob, [ticket_id], now=later) == {}
    taken = claim(bob, ticket_id, now=later)
    assert (taken.mine, taken.holder, taken.claimed_at) == (True, "bob", later)


def test_claiming_an_unknown_ticket_is_refused(desk: Desk) -> None:
    with pytest.raises(NotFound):
        claim(desk, 999)


def test_a_claim_moves_the_change_feed_without_an_audit_event(desk: Desk, ticket_id: int) -> None:
    with ChangeWatcher(desk.db) as watcher:
        claim(Desk(desk.db, "alice"), ticket_id)
        changes = watcher.poll()
    assert changes.changed and changes.events == []
