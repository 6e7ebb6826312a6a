"""Dispatch services: bulk assign, queues, escalation, client follow-up, roster, suggestions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from dispatch_tui.errors import GateClosed, InvalidInput
from dispatch_tui.services import (
    Desk,
    dispatch,
    dispatch_board,
    followup,
    queues,
    roster,
    suggestions,
    triage,
)
from dispatch_tui.services.availability import add_out_of_office, set_working_hours
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store.models import AuditEvent, Note, Ticket

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


def triaged(desk: Desk, summary: str = "VPN drops", client: str = "Northwind", **fields) -> int:
    ticket_id = add_ticket(desk, client=client, summary=summary).id or 0
    triage.triage_ticket(desk, ticket_id, **{**FULL, **fields})
    return ticket_id


@pytest.fixture
def techs(desk: Desk) -> None:
    # Round-the-clock hours, so "working now" does not depend on when the tests run.
    for name, tier, skills in (
        ("Dev Sharma", 2, "network"),
        ("Elena Novak", 3, "network,servers"),
        ("Ava Chen", 1, "desktop"),
    ):
        add_technician(desk, name=name, tier=tier, skills=skills)
        set_working_hours(
            desk, name, days="mon,tue,wed,thu,fri,sat,sun", start="00:00", end="23:59"
        )


def actions(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.db.read() as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
            ).all()
        )


def test_bulk_assign_is_one_transaction_behind_one_gate_check(desk: Desk, techs: None) -> None:
    a, b, c = triaged(desk, "one"), triaged(desk, "two"), triaged(desk, "three")
    done = dispatch.assign_many(desk, [b, a], "Dev Sharma")
    assert [(t.id, t.queue_position) for t in done] == [(b, 1), (a, 2)]
    assert len(actions(desk, "ticket.assign")) == 2
    # All or nothing: one bad ticket (already assigned) keeps the good one unassigned.
    with pytest.raises(InvalidInput, match="already has a technician"):
        dispatch.assign_many(desk, [c, a], "Elena Novak")
    with desk.db.read() as session:
        assert session.get(Ticket, c).assigned_tech_id is None
    add_ticket(desk, client="Northwind", summary="new arrival")
    with pytest.raises(GateClosed):
        dispatch.assign_many(desk, [c], "Elena Novak")


def test_tech_queue_in_order_and_reordering_is_audited(desk: Desk, techs: None) -> None:
    ids = [triaged(desk, f"job {n}") for n in range(3)]
    dispatch.assign_many(desk, ids, "Dev Sharma")
    queue = queues.tech_queue(desk, "dev sharma")
    assert [r.id for r in queue.rows] == ids and queue.hours == 3.0
    assert queues.move_in_queue(desk, ids[2], direction=-1) == 2
    assert queues.move_in_queue(desk, ids[2], position=1) == 1
    assert queues.move_in_queue(desk, ids[2], direction=-1) == 1  # already first
    assert [r.id for r in queues.tech_queue(desk, "Dev Sharma").rows] == [ids[2], ids[0], ids[1]]
    moves = actions(desk, "ticket.queue_move")
    assert [m.detail for m in moves] == ["from 3 to 2 of 3", "from 2 to 1 of 3"]
    with pytest.raises(InvalidInput, match="direction or a position"):
        queues.move_in_queue(desk, ids[0])


def test_escalation_needs_a_reason_marks_the_ticket_and_is_audited(desk: Desk, techs: None) -> None:
    ticket_id = triaged(desk)
    with pytest.raises(InvalidInput, match="needs a reason"):
        followup.escalate(desk, ticket_id, reason="  ")
    with pytest.raises(InvalidInput, match="escalate to one of"):
        followup.escalate(desk, ticket_id, reason="x", to="ceo")
    ticket = followup.escalate(desk, ticket_id, reason="firewall is beyond tier 2", to="manager")
    assert (ticket.escalated, ticket.escalated_to) == (True, "manager")
    (event,) = actions(desk, "ticket.escalate")
    assert event.detail == "to the service manager: firewall is beyond tier 2"
    assert [r.id for r in followup.escalated_tickets(desk)] == [ticket_id]
    with desk.db.read() as session:
        note = session.exec(select(Note).where(Note.ticket_id == ticket_id)).all()[-1]
    assert (note.kind, note.body) == (
        "internal",
        "Escalated to the service manager: firewall is beyond tier 2",
    )
    with pytest.raises(InvalidInput, match="already escalated"):
        followup.escalate(desk, ticket_id, reason="again", to="manager")


def test_client_updates_are_notes_and_their_age_is_read_per_ticket(desk: Desk, techs: None) -> None:
    first, second = triaged(desk), triaged(desk, "Printer")
    followup.log_client_update(desk, first, "Told Tom a tech calls before noon")
    later = followup.log_client_update(desk, first, "Tech is on the way")
    with desk.db.read() as session:
        updates = followup.last_client_updates(session, [first, second])
    assert updates == {first: later.created_at}
    assert updates[first].tzinfo is not None
    assert len(actions(desk, "ticket.note")) == 2
    with pytest.raises(InvalidInput, match="empty"):
        followup.log_client_update(desk, first, "  ")
    with pytest.raises(InvalidInput, match="note kind"):
        followup.add_note(desk, first, kind="gossip", text="x")
    board = dispatch_board.dispatch_data(desk)
    assert {b.ticket.id: b.last_client_update for b in board.tickets}[first] == later.created_at


def test_board_orders_by_priority_then_sla_time_left(desk: Desk, techs: None) -> None:
    low = triaged(desk, "low one", impact="low", urgency="low")
    critical = triaged(desk, "critical", impact="high", urgency="high")
    older_medium, newer_medium = triaged(desk, "m1"), triaged(desk, "m2")
    dispatch.assign_ticket(desk, triaged(desk, "taken"), "Dev Sharma")
    data = dispatch_board.dispatch_data(desk)
    assert data.gate.open
    assert [b.ticket.id for b in data.tickets] == [critical, older_medium, newer_medium, low]


def test_roster_shows_working_now_load_and_utilisation(desk: Desk, techs: None) -> None:
    ids = [triaged(desk, f"job {n}", estimate_hours=2.0) for n in range(2)]
    dispatch.assign_many(desk, ids, "Dev Sharma")
    now = datetime.now(UTC)
    add_out_of_office(
        desk, "Ava Chen", now - timedelta(hours=1), now + timedelta(hours=3), reason="dentist"
    )
    rows = {r.load.name: r for r in roster.roster(desk).rows}
    dev, ava = rows["Dev Sharma"], rows["Ava Chen"]
    assert (dev.load.open_tickets, dev.load.queued_hours) == (2, 4.0)
    assert dev.load.working_now and dev.load.status.startswith("working until")
    assert not ava.load.working_now and ava.load.status == "out of office: dentist"
    assert dev.utilization == 0.0 and roster.roster(desk).target == 0.75


def test_suggestions_rank_every_active_technician_with_reasons(desk: Desk, techs: None) -> None:
    ticket_id = triaged(desk)
    result = suggestions.suggest_for(desk, ticket_id)
    names = [s.name for s in result.suggestions]
    assert set(names) == {"Dev Sharma", "Elena Novak", "Ava Chen"}
    assert names[-1] == "Ava Chen"  # lacks the network skill
    assert all(s.reasons for s in result.suggestions)
    assert "has the network skill" in result.suggestions[0].reasons


def test_suggestions_spread_a_client_across_capable_technicians(desk: Desk, techs: None) -> None:
    old = [triaged(desk, f"old {n}") for n in range(3)]
    dispatch.assign_many(desk, old, "Elena Novak")
    with desk.db.write() as session:  # done work: history with the client, no load today
        for ticket in session.exec(select(Ticket).where(col(Ticket.id).in_(old))).all():
            ticket.status = "resolved"
            session.add(ticket)
    ticket_id = triaged(desk, "VPN again")
    ranked = suggestions.suggest_for(desk, ticket_id).suggestions
    by_name = {s.name: s for s in ranked}
    assert by_name["Elena Novak"].score > by_name["Dev Sharma"].score
    assert ranked[0].name == "Dev Sharma"
    assert any("spread this client" in r for r in ranked[0].reasons)
    assert "has worked this client before (3 times)" in by_name["Elena Novak"].reasons


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(dispatch_board, "PAGE_SIZE", 3)
    return 3


def all_pages(desk: Desk) -> list[dispatch_board.DispatchData]:
    pages = [dispatch_board.dispatch_data(desk)]
    while pages[-1].next_after is not None:
        pages.append(dispatch_board.dispatch_data(desk, after=pages[-1].next_after))
    return pages


def test_board_pages_hold_every_waiting_ticket_once_in_the_queue_order(
    desk: Desk, techs: None, small_pages: int
) -> None:
    lows = [triaged(desk, f"low {n}", impact="low", urgency="low") for n in range(3)]
    mediums = [triaged(desk, f"medium {n}") for n in range(4)]
    critical = triaged(desk, "critical", impact="high", urgency="high")
    dispatch.assign_ticket(desk, triaged(desk, "taken"), "Dev Sharma")
    pages = all_pages(desk)
    assert [len(p.tickets) for p in pages] == [3, 3, 2]
    assert {p.waiting for p in pages} == {8}
    assert [p.before for p in pages] == [0, 3, 6]
    shown = [b for p in pages for b in p.tickets]
    # Page after page is the order of one board holding them all: priority, then SLA
    # time left (for tickets triage released, their arrival order).
    assert [b.ticket.id for b in shown] == [critical, *mediums, *lows]
    assert shown == sorted(shown, key=dispatch_board.order_key)
    # Back from the last page is the page before it, read again.
    back = dispatch_board.dispatch_data(desk, back_from=pages[2].after)
    assert (back.after, back.tickets, back.before) == (
        pages[1].after,
        pages[1].tickets,
        pages[1].before,
    )
    first = dispatch_board.dispatch_data(desk, back_from=pages[1].after)
    assert first.after is None and first.tickets == pages[0].tickets


def test_a_board_page_read_again_follows_on_after_assignments(
    desk: Desk, techs: None, small_pages: int
) -> None:
    ids = [triaged(desk, f"job {n}") for n in range(8)]
    second = dispatch_board.dispatch_data(desk, after=all_pages(desk)[0].next_after)
    assert [b.ticket.id for b in second.tickets] == ids[3:6]
    # Tickets taken from the first page: the second page stays where it was (the key
    # is a place in the queue, not an offset), and counts the fewer tickets before it.
    dispatch.assign_many(desk, ids[:2], "Dev Sharma")
    again = dispatch_board.dispatch_data(desk, after=second.after)
    assert [b.ticket.id for b in again.tickets] == ids[3:6]
    assert (again.before, again.waiting) == (1, 6)
    # A ticket taken from the page itself: the next one moves up into it.
    dispatch.assign_ticket(desk, ids[4], "Dev Sharma")
    again = dispatch_board.dispatch_data(desk, after=second.after)
    assert [b.ticket.id for b in again.tickets] == [ids[3], ids[5], ids[6]]
    # Everything from the page on taken: the last page there is, never an empty one.
    dispatch.assign_many(desk, [ids[3], *ids[5:]], "Dev Sharma")
    last = dispatch_board.dispatch_data(desk, after=second.after)
    assert [b.ticket.id for b in last.tickets] == [ids[2]]
    assert (last.after, last.next_after, last.waiting) == (None, None, 1)


def test_the_board_reads_its_roster_thresholds_with_the_policy(desk: Desk, techs: None) -> None:
    # The roster's utilisation thresholds come in the policy's statement: one read of
    # the setting table a refresh, and a change made since is on the next one.
    from sqlalchemy import event

    from dispatch_tui.services import settings, timesheets

    settings.set_shop_timezone(desk, "Europe/Berlin")
    timesheets.set_utilization_thresholds(desk, target=0.6, high=0.9, low=0.3)
    seen: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(desk.db.engine, "before_cursor_execute", keep)
    try:
        data = dispatch_board.dispatch_data(desk)
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", keep)
    assert len([s for s in seen if "FROM setting" in s]) == 1
    assert data.roster == roster.roster(desk)
    assert data.roster.target == 0.6
    assert str(data.roster.week) == str(
        timesheets.current_week(settings.parse_timezone("Europe/Berlin"))
    )
    timesheets.set_utilization_thresholds(desk, target=0.8)
    assert dispatch_board.dispatch_data(desk).roster.target == 0.8


def test_a_board_page_and_its_counts_are_one_statement(
    desk: Desk, techs: None, small_pages: int
) -> None:
    # The gate's count, the waiting tickets and those before the page ride on the
    # page's rows; a board with no row to carry them still counts right.
    from sqlalchemy import event

    add_ticket(desk, client="Northwind", summary="untriaged")
    empty = dispatch_board.dispatch_data(desk)
    assert (empty.gate.untriaged, empty.waiting, empty.before, empty.tickets) == (1, 0, 0, [])
    ids = [triaged(desk, f"job {n}") for n in range(5)]
    seen: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(desk.db.engine, "before_cursor_execute", keep)
    try:
        first = dispatch_board.dispatch_data(desk)
        second = dispatch_board.dispatch_data(desk, after=first.next_after)
    finally:
        event.remove(desk.db.engine, "before_cursor_execute", keep)
    pages = [s for s in seen if "ticket.summary" in s]
    assert len(pages) == 2
    assert [s for s in seen if "count(" in s and "ticket.status = " in s] == pages
    assert (first.gate.untriaged, first.waiting, first.before) == (1, 5, 0)
    assert (second.gate.untriaged, second.waiting, second.before) == (1, 5, 3)
    assert [b.ticket.id for b in second.tickets] == ids[3:]
