"""Dashboard (F6) as a dispatcher uses it: the health checks show known counts, Enter
walks from a check to its tickets and into one ticket, and the period keys change the
period shown. Pilot tests on a small hand-built desk; no sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from live_helpers import settle
from textual.pilot import Pilot
from textual.widgets import Static

from dispatch_tui.app import DispatchApp
from dispatch_tui.rules.sla_outcome import Tally
from dispatch_tui.screens.dashboard_parts.charts import hbar, priority_chart, trend_line
from dispatch_tui.screens.dashboard_parts.periods import period_dates
from dispatch_tui.screens.ticket_detail import TicketDetailScreen
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.reports import Period, PriorityCount, SlaGroup, SlaReport
from dispatch_tui.store import Database
from dispatch_tui.store.models import Client, Ticket

SIZE = (120, 40)
HOSTILE = "[bold]x[/] printer \x1b[31mon fire"
SHOWN = "[bold]x[/] printer \ufffd[31mon fire"


@pytest.fixture
def desk_file(tmp_path: Path) -> Iterator[tuple[Path, dict[str, int]]]:
    """One on-hold ticket without a due date and one waiting ticket quiet for over a
    week: every other check finds nothing (no priorities, estimates, calls or time)."""
    path = tmp_path / "dash.db"
    database = Database(path, create=True)
    desk = Desk(database, "tester")
    now = datetime.now(UTC)
    # Eight calendar days hold at least two business days whatever today is.
    quiet = now - timedelta(days=8)
    made: dict[str, int] = {}
    with desk.db.write() as session:
        client = Client(name="[red]Evil[/red] Corp")
        session.add(client)
        session.flush()
        for name, status, summary, when in (
            ("on_hold", "on_hold", HOSTILE, now - timedelta(hours=2)),
            ("waiting", "waiting_client", "Waiting on the client's vendor", quiet),
        ):
            row = Ticket(
                client_id=client.id or 0,
                summary=summary,
                status=status,
                created_at=when,
                updated_at=when,
            )
            session.add(row)
            session.flush()
            made[name] = row.id or 0
    yield path, made
    database.dispose()


async def open_dashboard(app: DispatchApp, pilot: Pilot) -> None:
    await settle(app, pilot)
    await pilot.press("f6")
    await settle(app, pilot)
    assert app.current_mode == "dashboard"


def counts(app: DispatchApp) -> dict[str, int]:
    table = app.screen.query_one("#checks", KeyedTable)
    return {str(key.value): int(table.get_row(key)[0].plain) for key in table.rows}


async def test_checks_show_known_counts(desk_file: tuple[Path, dict[str, int]]) -> None:
    path, _made = desk_file
    app = DispatchApp(path, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await open_dashboard(app, pilot)
        found = counts(app)
        assert found["on_hold_no_future_due"] == 1
        assert found["waiting_no_activity"] == 1
        others = {
            k: v
            for k, v in found.items()
            if k not in ("on_hold_no_future_due", "waiting_no_activity")
        }
        assert set(others.values()) == {0}
        assert len(found) == 11
        # The cursor starts on the first check that found something.
        assert app.screen.query_one("#checks", KeyedTable).current_key == "waiting_no_activity"


async def test_walk_from_a_check_to_a_ticket(desk_file: tuple[Path, dict[str, int]]) -> None:
    path, made = desk_file
    app = DispatchApp(path, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await open_dashboard(app, pilot)
        checks = app.screen.query_one("#checks", KeyedTable)
        tickets = app.screen.query_one("#check-tickets", KeyedTable)
        # The highlighted check already lists its tickets.
        assert [k.value for k in tickets.rows] == [str(made["waiting"])]
        while checks.current_key != "on_hold_no_future_due":
            await pilot.press("down")
        await settle(app, pilot)
        assert [k.value for k in tickets.rows] == [str(made["on_hold"])]
        summary = tickets.get_row(str(made["on_hold"]))[-1].plain
        # Cut to the narrow panel, but literal: the brackets are there, no styling.
        assert summary.startswith("[red]Evil[/red] Corp: [")
        await pilot.press("enter")
        assert app.focused is tickets
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        title = str(app.screen.query_one("#detail-title", Static).render())
        assert title == f"#{made['on_hold']}  {SHOWN}"
        fields = str(app.screen.query_one("#detail-fields", Static).render())
        assert "[red]Evil[/red] Corp" in fields
        assert "on hold" in fields
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.title == "Dashboard"
        # Back on the checks with escape; the selection survived the trip.
        await pilot.press("escape")
        assert app.focused is checks
        assert checks.current_key == "on_hold_no_future_due"


async def test_refresh_keeps_the_selected_check_and_shows_new_offenders(
    desk_file: tuple[Path, dict[str, int]],
) -> None:
    path, _made = desk_file
    app = DispatchApp(path, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await open_dashboard(app, pilot)
        checks = app.screen.query_one("#checks", KeyedTable)
        while checks.current_key != "on_hold_no_future_due":
            await pilot.press("down")
        await settle(app, pilot)
        desk = app.desk
        assert desk is not None
        with desk.db.write() as session:
            client = session.get(Client, 1)
            assert client is not None
            session.add(Ticket(client_id=client.id or 0, summary="Parked", status="on_hold"))
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        assert counts(app)["on_hold_no_future_due"] == 2
        assert checks.current_key == "on_hold_no_future_due"
        assert app.screen.query_one("#check-tickets", KeyedTable).row_count == 2


async def test_period_keys_change_the_period_shown(
    desk_file: tuple[Path, dict[str, int]],
) -> None:
    path, _made = desk_file
    app = DispatchApp(path, actor="Alice")
    async with app.run_test(size=SIZE) as pilot:
        await open_dashboard(app, pilot)
        sla = app.screen.query_one("#sla", Static)
        assert str(sla.border_title).startswith("SLA met · Last 4 weeks")
        await pilot.press("q")
        await settle(app, pilot)
        assert str(sla.border_title).startswith("SLA met · This quarter")
        mix = app.screen.query_one("#priorities", Static)
        assert str(mix.border_title).startswith("Priority mix · This quarter")
        await pilot.press("p")
        await settle(app, pilot)
        assert str(sla.border_title).startswith("SLA met · This week")


# -- pure parts ---------------------------------------------------------------------------


def test_periods_end_today() -> None:
    wednesday = date(2026, 2, 4)
    assert period_dates("week", wednesday) == (date(2026, 2, 2), wednesday)
    assert period_dates("4w", wednesday) == (date(2026, 1, 8), wednesday)
    assert period_dates("quarter", date(2026, 5, 20)) == (date(2026, 4, 1), date(2026, 5, 20))


def test_bars_show_a_sliver_for_any_count() -> None:
    assert hbar(0, 10, 4) == "    "
    assert hbar(1, 1000, 4) == "▏   "
    assert hbar(10, 10, 4) == "████"
    assert hbar(5, 10, 4) == "██  "


def test_priority_chart_names_the_healthy_peak() -> None:
    rows = [
        PriorityCount("incident", "high", 6, 0.6),
        PriorityCount("incident", "medium", 4, 0.4),
        PriorityCount("service_request", "quick_hit", 9, 0.9),
        PriorityCount("service_request", "low", 1, 0.1),
    ]
    text = priority_chart(rows).plain
    assert "peaks at high, not medium" in text
    assert "peaks at quick hit: healthy" in text


def test_trend_is_on_a_fixed_scale() -> None:
    # 87% next to 100% must look nearly full, not like the floor.
    weeks = [SlaGroup("2026-W01", 8, first_response=Tally(met=87, missed=13))]
    weeks.append(SlaGroup("2026-W02", 4, first_response=Tally(met=10)))
    weeks.append(SlaGroup("2026-W03"))
    period = Period.of(date(2026, 1, 1), date(2026, 1, 21), ZoneInfo("UTC"))
    line = trend_line(SlaReport(period, [SlaGroup("all")], weeks), "first_response").plain
    assert line.startswith("▇▇ ██ · ")
    assert "100%" in line and "low 87%" in line
