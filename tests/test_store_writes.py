"""Core writes on the hot paths (store/writes.py): the version check, the audit event
in the same transaction, and the services built on them (triage, assignment)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from dispatch_tui.errors import EditConflict
from dispatch_tui.services import Desk, audit, dispatch, triage
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store import Database, DatabaseLocked, StaleRecord, writes
from dispatch_tui.store.core import execute_write
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


def events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.db.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.exec(query.order_by(col(AuditEvent.id))).all())


def load(desk: Desk, ticket_id: int) -> Ticket:
    with desk.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def test_update_versioned_bumps_the_version_and_refuses_a_stale_one(desk: Desk) -> None:
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    with desk.db.write() as session:
        row = writes.ticket_row(session, ticket_id)
        assert row is not None
        new = writes.update_versioned(
            session, writes.TICKET, ticket_id, row.version, {"estimate_hours": 2.5}
        )
    assert new == row.version + 1
    saved = load(desk, ticket_id)
    assert (saved.version, saved.estimate_hours) == (new, 2.5)
    # The old version no longer matches: nothing is written, and the audit event sent
    # earlier in the same transaction goes with it.
    with pytest.raises(StaleRecord), desk.db.write() as session:
        audit.record(session, "tester", "ticket.update", "ticket", ticket_id, "stale")
        writes.update_versioned(
            session, writes.TICKET, ticket_id, row.version, {"estimate_hours": 9.0}
        )
    after = load(desk, ticket_id)
    assert (after.version, after.estimate_hours) == (new, 2.5)
    assert [e.detail for e in events(desk, "ticket.update")] == []


def test_assign_never_overwrites_a_row_changed_since_it_was_read(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_technician(desk, name="Dev Sharma", tier=2, skills="network")
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    triage.triage_ticket(desk, ticket_id, **FULL)
    with desk.db.write() as session:
        old = writes.ticket_row(session, ticket_id)
    triage.update_triage_fields(desk, ticket_id, estimate_hours=3.0)  # someone else's edit
    # A reader that returns the row as it was (a tool writing around the lock would
    # have the same effect): the UPDATE's version check must catch it.
    monkeypatch.setattr(writes, "ticket_row", lambda session, _id: old)
    with pytest.raises(EditConflict, match="changed by tester"):
        dispatch.assign_ticket(desk, ticket_id, "Dev Sharma")
    monkeypatch.undo()
    saved = load(desk, ticket_id)
    assert (saved.assigned_tech_id, saved.estimate_hours) == (None, 3.0)
    assert events(desk, "ticket.assign") == []


def test_assign_returns_the_saved_ticket_and_audits_before_and_after(desk: Desk) -> None:
    tech = add_technician(desk, name="Dev Sharma", tier=2, skills="network")
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    triaged = triage.triage_ticket(desk, ticket_id, **FULL)
    ticket = dispatch.assign_ticket(desk, ticket_id, "dev sharma", reason="on site")
    saved = load(desk, ticket_id)
    assert ticket.version == saved.version == triaged.version + 1
    assert (ticket.status, ticket.assigned_tech_id, ticket.queue_position) == (
        "assigned",
        tech.id,
        1,
    )
    assert ticket.summary == saved.summary and ticket.updated_by == "tester"
    (event,) = events(desk, "ticket.assign")
    assert event.detail == "to Dev Sharma: on site"
    assert json.loads(event.before or "") == {
        "status": "triaged",
        "assigned_tech_id": None,
        "queue_position": None,
    }
    assert json.loads(event.after or "") == {
        "status": "assigned",
        "assigned_tech_id": tech.id,
        "queue_position": 1,
    }


def test_triage_writes_only_through_the_version_check_and_returns_the_saved_ticket(
    desk: Desk,
) -> None:
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    before = load(desk, ticket_id)
    ticket = triage.triage_ticket(desk, ticket_id, expect_version=before.version, **FULL)
    saved = load(desk, ticket_id)
    assert ticket.version == saved.version == before.version + 1
    assert ticket.status == saved.status == "triaged"
    assert ticket.priority == saved.priority and saved.priority is not None
    assert saved.respond_by == ticket.respond_by and saved.respond_by is not None
    assert saved.triaged_at is not None and saved.first_response_at == saved.triaged_at
    (event,) = events(desk, "ticket.triage")
    assert json.loads(event.after or "")["status"] == "triaged"
    with pytest.raises(EditConflict):
        triage.update_triage_fields(desk, ticket_id, expect_version=before.version, urgency="low")
    assert load(desk, ticket_id).urgency == "medium"


# -- Database.write_core(): the same transaction, without an ORM session --------------------


def test_write_core_commits_its_statements_together_on_a_core_connection(desk: Desk) -> None:
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    with desk.db.write_core() as conn:
        assert isinstance(conn, Connection)
        row = writes.ticket_row(conn, ticket_id)
        assert row is not None
        audit.record(conn, "tester", "ticket.update", "ticket", ticket_id, "core")
        new = writes.update_versioned(
            conn, writes.TICKET, ticket_id, row.version, {"estimate_hours": 2.5}
        )
    saved = load(desk, ticket_id)
    assert (saved.version, saved.estimate_hours) == (new, 2.5)
    assert [e.detail for e in events(desk, "ticket.update")] == ["core"]


def test_write_core_rolls_back_everything_on_a_stale_row_or_any_error(desk: Desk) -> None:
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    with pytest.raises(StaleRecord, match="nothing was saved"), desk.db.write_core() as conn:
        audit.record(conn, "tester", "ticket.update", "ticket", ticket_id, "stale")
        writes.update_versioned(conn, writes.TICKET, ticket_id, 99, {"estimate_hours": 9.0})
    with pytest.raises(RuntimeError, match="boom"), desk.db.write_core() as conn:
        writes.update_versioned(conn, writes.TICKET, ticket_id, 1, {"estimate_hours": 9.0})
        raise RuntimeError("boom")
    saved = load(desk, ticket_id)
    assert (saved.version, saved.estimate_hours) == (1, None)
    assert events(desk, "ticket.update") == []
    # The connection went back to the pool clean: the next write lands.
    with desk.db.write_core() as conn:
        writes.update_versioned(conn, writes.TICKET, ticket_id, 1, {"estimate_hours": 1.5})
    assert load(desk, ticket_id).estimate_hours == 1.5


def test_write_core_holds_the_writer_lock_from_its_start_and_waits_for_it(desk: Desk) -> None:
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    impatient = Database(desk.db.target, lock_timeout=0.3)
    refused = pytest.raises(DatabaseLocked, match="nothing was saved")
    try:
        # Nothing sent yet: BEGIN IMMEDIATE (the advisory lock on PostgreSQL) took the
        # lock, so no other writer slips in before the first statement.
        with desk.db.write_core(), refused, impatient.write():
            pass
        with desk.db.write(), refused, impatient.write_core() as conn:
            writes.update_versioned(conn, writes.TICKET, ticket_id, 1, {"impact": "low"})
    finally:
        impatient.dispose()
    assert load(desk, ticket_id).version == 1


def test_triage_and_assignment_need_no_orm_session_unless_they_create_rows(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_technician(desk, name="Dev Sharma", tier=2, skills="network")
    add_technician(desk, name="Elena Novak", tier=2, skills="network")
    first = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    second = add_ticket(desk, client="Northwind", summary="Mail down").id or 0
    for ticket_id in (first, second):
        triage.triage_ticket(desk, ticket_id, **FULL)
    sessions: list[str] = []
    real_write = Database.write

    def counted(self: Database) -> Any:
        sessions.append("orm")
        return real_write(self)

    monkeypatch.setattr(Database, "write", counted)
    triage.update_triage_fields(desk, second, estimate_hours=2.0, note="  ")
    dispatch.assign_ticket(desk, first, "Dev Sharma")
    dispatch.reassign(desk, first, "Elena Novak", reason="on site today")
    dispatch.unassign_ticket(desk, first, reason="client cancelled")
    assert sessions == []
    # A note is an ORM row, as is a contact looked up by name.
    triage.update_triage_fields(desk, second, urgency="high", note="client called again")
    triage.update_triage_fields(desk, second, contact="Ann Smith")
    assert sessions == ["orm", "orm"]
    dispatch.assign_many(desk, [second, first], "Dev Sharma")
    assert sessions == ["orm", "orm"]
    saved = load(desk, second)
    assert (saved.urgency, saved.estimate_hours, saved.queue_position) == ("high", 2.0, 1)
    assert load(desk, first).queue_position == 2


# -- store/core.execute_write: prebuilt writes sent straight to SQLite's driver ----------


def stored_text(desk: Desk, sql: str) -> list[tuple[Any, ...]]:
    """Rows as the database holds them (times as text), whichever path wrote them."""
    with desk.db.read() as session:
        return [tuple(r) for r in session.connection().exec_driver_sql(sql).all()]


def test_execute_write_stores_exactly_what_sqlalchemys_execute_would(
    desk: Desk, backend: str
) -> None:
    first = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    second = add_ticket(desk, client="Northwind", summary="Mail down").id or 0
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)  # no microseconds: formats differ there
    event = {"actor": "tester", "action": "ticket.update", "entity": "ticket", "detail": "x"}
    values = {"estimate_hours": 2.5, "updated_at": at, "updated_by": "tester"}
    with desk.db.write_core() as conn:
        audit.record(conn, "tester", "ticket.update", "ticket", first, "x", before={"a": 1})
        conn.execute(
            audit._INSERT,
            event
            | {"at": audit.utcnow(), "entity_id": second, "before": '{"a": 1}', "after": None},
        )
        writes.update_versioned(conn, writes.TICKET, first, 1, values)
        params = {f"v_{k}": v for k, v in values.items()} | {"b_id": second, "b_version": 1}
        conn.execute(writes._update_for(writes.TICKET, tuple(sorted(values))), params)
    tickets = stored_text(
        desk,
        "SELECT CAST(updated_at AS TEXT), estimate_hours, updated_by, version FROM ticket "
        f"WHERE id IN ({first}, {second}) ORDER BY id",
    )
    assert tickets[0] == tickets[1]
    assert tickets[0][1:] == (2.5, "tester", 2)
    # The moment's stored form: SQLite keeps SQLAlchemy's fixed-width text, which the
    # driver path must match; PostgreSQL renders its own text (trailing zeros of the
    # microseconds dropped), and both of its paths are SQLAlchemy's anyway.
    at_form = "length(CAST(at AS TEXT))" if backend == "sqlite" else "0"
    events = stored_text(
        desk,
        f"SELECT {at_form}, actor, action, entity, detail, before, after "
        "FROM audit_event WHERE action = 'ticket.update' ORDER BY id",
    )
    assert len(events) == 2 and events[0] == events[1]


def test_execute_write_raises_sqlalchemy_errors_and_fills_in_column_defaults(desk: Desk) -> None:
    ticket_id = add_ticket(desk, client="Northwind", summary="VPN drops").id or 0
    with pytest.raises(IntegrityError), desk.db.write_core() as conn:
        writes.update_versioned(conn, writes.TICKET, ticket_id, 1, {"client_id": 987654})
    # A parameter left out that has a Python-side default (audit_event.at and detail):
    # SQLAlchemy's own execution fills it in, as it did before.
    with desk.db.write_core() as conn:
        execute_write(
            conn, audit._INSERT, {"actor": "tester", "action": "probe.x", "entity": "ticket"}
        )
    (event,) = events(desk, "probe.x")
    assert event.detail == "" and event.at is not None
    assert load(desk, ticket_id).version == 1


def test_execute_write_expands_in_lists_as_sqlalchemy_does(desk: Desk) -> None:
    ids = [add_ticket(desk, client="Northwind", summary=f"VPN {n}").id or 0 for n in range(3)]
    table = writes.TICKET
    stmt = (
        update(table)
        .where(table.c.id.in_(bindparam("b_ids", expanding=True)))
        .values(impact=bindparam("v_impact"))
    )
    with desk.db.write_core() as conn:
        assert execute_write(conn, stmt, {"b_ids": ids[:2], "v_impact": "low"}) == 2
    assert [load(desk, i).impact for i in ids] == ["low", "low", None]
