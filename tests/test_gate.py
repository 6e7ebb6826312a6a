"""Triage ALL before dispatching ANY: the gate in the service layer, under a race with
another process, and through the real ``dispatch-tui`` command."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import assert_one_line_error, cli
from sqlmodel import col, select

from dispatch_tui.errors import EditConflict, GateClosed, InvalidInput, NotFound
from dispatch_tui.services import Desk, dispatch, triage
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store.models import AuditEvent, Ticket

FULL = {
    "ticket_type": "incident",
    "category": "network",
    "subcategory": "vpn",
    "impact": "medium",
    "urgency": "medium",
    "estimate_hours": 1.0,
    "required_skill": "network",
    "contact": "Tom Becker",
}


def intake(desk: Desk, summary: str = "VPN drops") -> int:
    return add_ticket(desk, client="Northwind", summary=summary).id or 0


def triaged(desk: Desk, summary: str = "VPN drops") -> int:
    ticket_id = intake(desk, summary)
    triage.triage_ticket(desk, ticket_id, **FULL)
    return ticket_id


@pytest.fixture
def techs(desk: Desk) -> None:
    add_technician(desk, name="Dev Sharma", tier=2, skills="network")
    add_technician(desk, name="Elena Novak", tier=3, skills="network,servers")


def test_gate_refuses_every_dispatching_verb_while_a_ticket_is_new(desk: Desk, techs: None) -> None:
    ready = triaged(desk)
    moved = triaged(desk, "Wi-Fi slow")
    dispatch.assign_ticket(desk, moved, "Dev Sharma")
    intake(desk, "Whole office lost internet")
    assert not dispatch.gate_state(desk).open
    with pytest.raises(GateClosed, match="1 ticket waits for triage") as refused:
        dispatch.assign_ticket(desk, ready, "Dev Sharma")
    assert refused.value.waiting == 1 and refused.value.exit_code == 3
    with pytest.raises(GateClosed):
        dispatch.reassign(desk, moved, "Elena Novak", reason="needs tier 3")
    with pytest.raises(GateClosed):
        dispatch.assign_many(desk, [ready], "Dev Sharma")
    with desk.db.read() as session:
        assert session.get(Ticket, ready).status == "triaged"
        assert session.get(Ticket, moved).assigned_tech_id is not None


def test_unassign_is_not_dispatching_so_the_closed_gate_allows_it(desk: Desk, techs: None) -> None:
    moved = triaged(desk, "Wi-Fi slow")
    dispatch.assign_ticket(desk, moved, "Dev Sharma")
    intake(desk, "Whole office lost internet")
    back = dispatch.unassign_ticket(desk, moved, reason="Dev is off sick")
    assert (back.status, back.assigned_tech_id) == ("triaged", None)
    # Back on the board, it waits behind the gate like any other triaged ticket.
    with pytest.raises(GateClosed):
        dispatch.assign_ticket(desk, moved, "Elena Novak")


def test_gate_opens_when_every_ticket_is_triaged(desk: Desk, techs: None) -> None:
    first, second = triaged(desk), triaged(desk, "Firewall firmware")
    state = dispatch.gate_state(desk)
    assert state.open and state.untriaged == 0
    a = dispatch.assign_ticket(desk, first, "dev sharma", expect_version=2)
    b = dispatch.assign_ticket(desk, second, "1")  # by id
    assert (a.status, a.assigned_tech_id, a.queue_position) == ("assigned", 1, 1)
    assert (b.assigned_tech_id, b.queue_position) == (1, 2)  # end of that tech's queue
    with desk.db.read() as session:
        (event, _) = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "ticket.assign")
            .order_by(col(AuditEvent.id))
        ).all()
    assert event.entity_id == first and event.detail == "to Dev Sharma"
    assert json.loads(event.before or "") == {
        "status": "triaged",
        "assigned_tech_id": None,
        "queue_position": None,
    }
    assert json.loads(event.after or "")["assigned_tech_id"] == 1


def test_reassign_needs_a_reason_and_goes_to_the_end_of_the_new_queue(
    desk: Desk, techs: None
) -> None:
    first, second = triaged(desk), triaged(desk, "Switch down")
    dispatch.assign_ticket(desk, first, "Elena Novak")
    dispatch.assign_ticket(desk, second, "Dev Sharma")
    with pytest.raises(InvalidInput, match="needs a reason"):
        dispatch.reassign(desk, second, "Elena Novak", reason=" ")
    with pytest.raises(InvalidInput, match="already with Dev Sharma"):
        dispatch.reassign(desk, second, "Dev Sharma", reason="x")
    moved = dispatch.reassign(desk, second, "Elena Novak", reason="needs tier 3")
    assert (moved.assigned_tech_id, moved.queue_position, moved.status) == (2, 2, "assigned")
    with desk.db.read() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "ticket.reassign")).one()
    assert event.detail == "from Dev Sharma to Elena Novak: needs tier 3"


def test_unassign_returns_the_ticket_to_the_board(desk: Desk, techs: None) -> None:
    ticket_id = triaged(desk)
    dispatch.assign_ticket(desk, ticket_id, "Dev Sharma")
    back = dispatch.unassign_ticket(desk, ticket_id, reason="client cancelled the visit")
    assert (back.status, back.assigned_tech_id, back.queue_position) == ("triaged", None, None)
    with pytest.raises(InvalidInput, match="only assigned tickets"):
        dispatch.unassign_ticket(desk, ticket_id)


def test_what_cannot_be_assigned(desk: Desk, techs: None) -> None:
    ticket_id = triaged(desk)
    with pytest.raises(NotFound, match="no technician 'Nobody'"):
        dispatch.assign_ticket(desk, ticket_id, "Nobody")
    with pytest.raises(NotFound, match="no ticket #999"):
        dispatch.assign_ticket(desk, 999, "Dev Sharma")
    with desk.db.write() as session:
        session.connection().exec_driver_sql("UPDATE technician SET active = FALSE WHERE id = 2")
    with pytest.raises(InvalidInput, match="Elena Novak is inactive"):
        dispatch.assign_ticket(desk, ticket_id, "Elena Novak")
    with pytest.raises(EditConflict, match="changed by tester"):
        dispatch.assign_ticket(desk, ticket_id, "Dev Sharma", expect_version=1)
    dispatch.assign_ticket(desk, ticket_id, "Dev Sharma")
    with pytest.raises(InvalidInput, match="already has a technician"):
        dispatch.assign_ticket(desk, ticket_id, "Dev Sharma")
    with desk.db.write() as session:
        session.connection().exec_driver_sql(
            f"UPDATE ticket SET status = 'resolved', assigned_tech_id = NULL WHERE id = {ticket_id}"
        )
    with pytest.raises(InvalidInput, match="only triaged tickets"):
        dispatch.assign_ticket(desk, ticket_id, "Dev Sharma")


# -- the race -------------------------------------------------------------------------------

# Another dispatcher's intake, in another process: take the write lock, record a new
# ticket (a copy of ticket 1, so the test survives new columns), hold the lock a
# moment, then commit. Plain sqlite3, as any other program on the share would.
INTAKE_SCRIPT = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
    conn.execute("BEGIN IMMEDIATE")
    skip = ("id", "source_ref")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(ticket)") if r[1] not in skip]
    fixed = {"status": "'new'", "summary": "'Server room is flooding'"}
    values = [fixed.get(c, c) for c in cols]
    conn.execute(
        f"INSERT INTO ticket ({','.join(cols)}) SELECT {','.join(values)} FROM ticket WHERE id = 1"
    )
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("COMMIT")
    print("committed", flush=True)
    """
)


@pytest.mark.sqlite_only
def test_a_concurrent_intake_closes_the_gate_inside_the_assign_transaction(
    desk: Desk, techs: None, db_path: Path
) -> None:
    ticket_id = triaged(desk)
    # The dispatcher's screen read the gate a moment ago: open.
    assert dispatch.gate_state(desk).open
    hold_s = 0.5
    other = subprocess.Popen(
        [sys.executable, "-c", INTAKE_SCRIPT, str(db_path), str(hold_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "locked"
        started = time.monotonic()
        # The other process holds the write lock with its new ticket uncommitted: the
        # assignment waits for BEGIN IMMEDIATE, then counts the committed new ticket.
        with pytest.raises(GateClosed) as refused:
            dispatch.assign_ticket(desk, ticket_id, "Dev Sharma")
        waited = time.monotonic() - started
    finally:
        assert other.wait(timeout=30) == 0
    assert refused.value.waiting == 1
    assert waited >= hold_s * 0.5, f"assign did not wait for the other writer ({waited:.3f} s)"
    with desk.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "triaged" and ticket.assigned_tech_id is None


# -- the command line ---------------------------------------------------------------------


def test_cli_triage_then_assign_and_exit_3_while_tickets_wait(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    assert cli("init", "--timezone", "America/Chicago", db=db).returncode == 0
    assert cli("tech", "add", "--name", "Dev Sharma", "--tier", "2", db=db).returncode == 0
    for summary in ("VPN drops", "Switch down"):
        added = cli(
            "ticket",
            "add",
            "--client",
            "Northwind",
            "--summary",
            summary,
            "--contact",
            "Tom",
            db=db,
        )
        assert added.returncode == 0, added.stderr

    refused = cli("ticket", "assign", "1", "--tech", "Dev Sharma", db=db)
    assert_one_line_error(refused, 3, "2 tickets wait for triage")

    incomplete = cli("ticket", "triage", "1", "--type", "incident", "--category", "network", db=db)
    assert_one_line_error(incomplete, 2, "lacks impact, urgency, estimate and required skill")

    args = [
        "--type",
        "incident",
        "--category",
        "network",
        "--subcategory",
        "vpn",
        "--impact",
        "high",
        "--urgency",
        "medium",
        "--estimate",
        "1.5",
        "--skill",
        "network",
    ]
    done = cli(
        "ticket",
        "triage",
        "1",
        *args,
        "--note",
        "Since the firmware update",
        "--expect-version",
        "1",
        "--json",
        db=db,
    )
    assert done.returncode == 0, done.stderr
    ticket = json.loads(done.stdout)["ticket"]
    assert ticket["status"] == "triaged" and ticket["priority"] == "high" and ticket["version"] == 2

    assert_one_line_error(
        cli("ticket", "assign", "1", "--tech", "Dev Sharma", db=db), 3, "1 ticket waits for triage"
    )
    stale = cli("ticket", "triage", "2", *args, "--expect-version", "5", db=db)
    assert_one_line_error(stale, 4, "changed by")
    assert cli("ticket", "triage", "2", *args, db=db).returncode == 0

    assigned = cli("ticket", "assign", "1", "--tech", "Dev Sharma", "--json", db=db)
    assert assigned.returncode == 0, assigned.stderr
    body = json.loads(assigned.stdout)["ticket"]
    assert body["status"] == "assigned" and body["queue_position"] == 1
    text = cli("ticket", "assign", "2", "--tech", "1", db=db)
    assert text.returncode == 0 and "position 2" in text.stdout
