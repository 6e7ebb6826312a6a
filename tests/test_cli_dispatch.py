"""The dispatch commands through the real ``dispatch-tui`` on the demo desk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import assert_one_line_error, cli
from sqlmodel import col, select

from dispatch_tui import demo
from dispatch_tui.services import Desk, triage
from dispatch_tui.store import Database
from dispatch_tui.store.models import AuditEvent, Status, Ticket

TRIAGE = {
    "ticket_type": "incident",
    "category": "network",
    "subcategory": "internet",
    "impact": "high",
    "urgency": "medium",
    "estimate_hours": 1.0,
    "required_skill": "network",
}


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    """The demo desk with every new ticket triaged, so the gate is open."""
    path = tmp_path / "demo.db"
    database = Database(path, create=True)
    desk = Desk(database, "tester")
    demo.generate(desk)
    with database.read() as session:
        new = session.exec(select(Ticket.id).where(Ticket.status == Status.NEW.value)).all()
    for ticket_id in new:
        triage.triage_ticket(desk, ticket_id, **TRIAGE)
    database.dispose()
    return path


def board_ids(path: Path) -> list[int]:
    database = Database(path)
    with database.read() as session:
        ids = session.exec(
            select(Ticket.id)
            .where(Ticket.status == "triaged", col(Ticket.assigned_tech_id).is_(None))
            .order_by(col(Ticket.id))
        ).all()
    database.dispose()
    return list(ids)


def test_suggest_json_ranks_at_least_two_technicians_each_with_reasons(demo_db: Path) -> None:
    ticket_id = board_ids(demo_db)[-1]
    result = cli("ticket", "suggest", str(ticket_id), "--json", db=demo_db)
    assert result.returncode == 0, result.stderr
    ranked = json.loads(result.stdout)["suggestions"]
    assert len(ranked) >= 2
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert all(r["reasons"] and r["tech"] for r in ranked)
    assert any("network skill" in reason for reason in ranked[0]["reasons"])


def test_tech_queue_shows_assignments_in_order(demo_db: Path) -> None:
    first, second = board_ids(demo_db)[-2:]
    for ticket_id in (second, first):
        assert (
            cli("ticket", "assign", str(ticket_id), "--tech", "Dev Sharma", db=demo_db).returncode
            == 0
        )
    result = cli("tech", "queue", "Dev Sharma", "--json", db=demo_db)
    assert result.returncode == 0, result.stderr
    queue = json.loads(result.stdout)["queue"]
    assert [r["position"] for r in queue] == list(range(1, len(queue) + 1))
    assert [r["id"] for r in queue][-2:] == [second, first]
    table = cli("tech", "queue", "Dev Sharma", db=demo_db).stdout.splitlines()
    assert table[0].split()[:2] == ["#", "ticket"]
    assert table[-1].split()[1] == str(first)


def test_escalate_note_reassign_unassign_are_audited(demo_db: Path) -> None:
    ticket_id = board_ids(demo_db)[-1]
    assert (
        cli("ticket", "assign", str(ticket_id), "--tech", "Dev Sharma", db=demo_db).returncode == 0
    )
    assert_one_line_error(
        cli("ticket", "escalate", str(ticket_id), "--reason", " ", db=demo_db), 2, "needs a reason"
    )
    steps = [
        ("ticket", "escalate", str(ticket_id), "--reason", "storm damage", "--to", "tier3"),
        ("ticket", "note", str(ticket_id), "--kind", "client", "--text", "Tech on site by 10"),
        ("ticket", "reassign", str(ticket_id), "--tech", "Elena Novak", "--reason", "tier 3"),
        ("ticket", "unassign", str(ticket_id), "--reason", "client cancelled"),
    ]
    for step in steps:
        result = cli(*step, "--as", "Sam", db=demo_db)
        assert result.returncode == 0, result.stderr
    database = Database(demo_db)
    with database.read() as session:
        events = session.exec(
            select(AuditEvent.action, AuditEvent.detail, AuditEvent.actor)
            .where(AuditEvent.entity == "ticket", AuditEvent.entity_id == ticket_id)
            .order_by(col(AuditEvent.id))
        ).all()
    database.dispose()
    assert ("ticket.escalate", "to tier 3: storm damage", "Sam") in events
    assert [e[0] for e in events][-4:] == [
        "ticket.escalate",
        "ticket.note",
        "ticket.reassign",
        "ticket.unassign",
    ]
    assert_one_line_error(
        cli("ticket", "note", str(ticket_id), "--kind", "gossip", "--text", "x", db=demo_db),
        2,
        "note kind",
    )


def test_escalated_lists_the_service_managers_tickets(demo_db: Path) -> None:
    ticket_id = board_ids(demo_db)[0]
    escalated = cli(
        "ticket",
        "escalate",
        str(ticket_id),
        "--reason",
        "needs the manager",
        "--to",
        "manager",
        db=demo_db,
    )
    assert escalated.returncode == 0, escalated.stderr
    listed = json.loads(cli("ticket", "escalated", "--json", db=demo_db).stdout)["tickets"]
    mine = [row for row in listed if row["id"] == ticket_id]
    assert mine and mine[0]["escalated_to"] == "manager"
    assert all(row["status"] not in ("resolved", "closed") for row in listed)
    table = cli("ticket", "escalated", db=demo_db).stdout.splitlines()
    assert table[0].split()[:2] == ["id", "to"]
    assert any(line.split()[0] == str(ticket_id) for line in table[1:])
