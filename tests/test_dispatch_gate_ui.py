"""The triage gate on the Dispatch screen: a banner while any ticket is new, and an
assign key that only explains. Keyboard only, waits on workers, no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_helpers import settle, until
from sqlmodel import select
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Static

from dispatch_tui.app import DispatchApp
from dispatch_tui.rules.gate import GateState
from dispatch_tui.screens.dispatch import DispatchScreen
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.technicians import add_technician
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.services.triage import triage_ticket
from dispatch_tui.store import Database
from dispatch_tui.store.models import AuditEvent, Ticket

SIZE = (120, 40)
TRIAGE = {
    "ticket_type": "incident",
    "category": "network",
    "impact": "medium",
    "urgency": "medium",
    "estimate_hours": 1.0,
    "required_skill": "network",
}


@pytest.fixture
def gate_db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "t.db"
    database = Database(path, create=True)
    desk = Desk(database, "tester")
    add_technician(desk, name="Dana Reyes", tier=2, skills="network")
    ready = add_ticket(desk, client="Acme Dental", contact="Jo Park", summary="VPN drops")
    triage_ticket(desk, ready.id or 0, **TRIAGE)
    yield path
    database.dispose()


def with_desk(path: Path, action):  # type: ignore[no-untyped-def]
    database = Database(path)
    try:
        return action(Desk(database, "other dispatcher"))
    finally:
        database.dispose()


def banner(app: DispatchApp) -> Static:
    return app.screen.query_one("#gate-banner", Static)


def notes(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


async def test_banner_and_refused_assign_while_a_ticket_is_new(gate_db: Path) -> None:
    new = with_desk(gate_db, lambda d: add_ticket(d, client="Acme Dental", summary="Printer"))
    seen: list[Message] = []
    app = DispatchApp(gate_db, actor="Alice")
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "triage"  # opens where the work must start
        await pilot.press("f4")
        await settle(app, pilot)
        assert isinstance(app.screen, DispatchScreen)
        assert banner(app).display
        text = str(banner(app).render())
        assert "Gate closed" in text and "1 ticket waits" in text and "f3" in text

        await pilot.press("a")
        await settle(app, pilot)
        assert any("must be triaged before any is assigned" in n for n in notes(seen))
        assert with_desk(gate_db, assigned_ids) == []

        # The banner's key goes to Triage.
        await pilot.press("f3")
        await settle(app, pilot)
        assert app.current_mode == "triage"

        # Triaged elsewhere: back on Dispatch the gate is open and the banner gone.
        with_desk(gate_db, lambda d: triage_ticket(d, new.id or 0, contact="Jo Park", **TRIAGE))
        await pilot.press("f4")
        await settle(app, pilot)
        assert not banner(app).display
        await pilot.press("a")
        await settle(app, pilot)
        assert not any("must be triaged" in n for n in notes(seen)[1:])


async def test_a_ticket_arriving_during_dispatch_closes_the_gate(gate_db: Path) -> None:
    app = DispatchApp(gate_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "dispatch"
        assert not banner(app).display
        with_desk(gate_db, lambda d: add_ticket(d, client="Acme Dental", summary="Server down"))
        with_desk(gate_db, lambda d: add_ticket(d, client="Acme Dental", summary="No mail"))
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert banner(app).display
        assert "2 tickets wait" in str(banner(app).render())


def assigned_ids(desk: Desk) -> list[int]:
    with desk.db.read() as session:
        tickets = session.exec(select(Ticket).where(Ticket.assigned_tech_id.is_not(None))).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "ticket.assign")).all()
        assert not events
        return [t.id or 0 for t in tickets]


async def test_the_banner_follows_the_headers_counts_without_a_poll_of_its_own(
    gate_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The header reads the untriaged count every 2 s and on every change; the banner
    # takes the gate from it rather than reading the same count on its own timer.
    import dispatch_tui.screens.dispatch as dispatch_screen

    checks: list[int] = []
    original = dispatch_screen.gate_state

    def counting(desk: Desk) -> GateState:
        checks.append(1)
        return original(desk)

    monkeypatch.setattr(dispatch_screen, "gate_state", counting)
    app = DispatchApp(gate_db, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.current_mode == "dispatch"
        assert not banner(app).display
        shown_with = len(checks)
        with_desk(gate_db, lambda d: add_ticket(d, client="Acme Dental", summary="Server down"))
        await until(pilot, lambda: banner(app).display)
        assert "1 ticket waits" in str(banner(app).render())
        await pilot.pause(2.5)  # longer than the header's poll, and than the old gate poll
        assert len(checks) == shown_with
