"""Dashboard (F6): the numbers a service manager judges the desk by, refreshed live.

All reading happens in one fetch on a worker thread (dashboard_parts/data.py); the
panels only draw what it returns. The health checks list is the way in: Enter on a
check focuses its tickets, Enter on a ticket opens it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from dispatch_tui.errors import DispatchError
from dispatch_tui.rules.health import CheckResult
from dispatch_tui.screens.base import DeskScreen
from dispatch_tui.screens.dashboard_parts import data as dashboard_data
from dispatch_tui.screens.dashboard_parts.charts import (
    aging_chart,
    flag_legend,
    load_chart,
    priority_chart,
    sla_panel,
)
from dispatch_tui.screens.dashboard_parts.data import CheckTickets, DashboardData
from dispatch_tui.screens.dashboard_parts.periods import (
    DEFAULT_PERIOD,
    choice,
    describe,
    next_period,
)
from dispatch_tui.screens.dashboard_parts.rows import (
    CHECK_COLUMNS,
    TICKET_COLUMNS,
    check_rows,
    ticket_rows,
)
from dispatch_tui.screens.schedule_parts.panels import utilization_text
from dispatch_tui.screens.ticket_detail import TicketDetailScreen
from dispatch_tui.screens.widgets.desk_header import error_line
from dispatch_tui.screens.widgets.keyed_table import KeyedTable
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import StoreError

#: Seconds between refreshes while the dashboard is on screen: other dispatchers and
#: technicians change the file all day, and a manager leaves this screen up.
REFRESH_SECONDS = 30.0
TICKETS_GROUP = "dashboard-tickets"
#: The utilisation panel is wider than the schedule's side panel: full names fit.
UTIL_NAME_WIDTH = 18


class DashboardScreen(DeskScreen):
    TITLE = "Dashboard"
    CSS_PATH = "dashboard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "cycle_period", "Period", id="dashboard.period"),
        Binding("w", "period('week')", "This week", show=False, id="dashboard.period_week"),
        Binding("m", "period('4w')", "4 weeks", show=False, id="dashboard.period_4w"),
        Binding("q", "period('quarter')", "Quarter", show=False, id="dashboard.period_quarter"),
        Binding("escape", "back_to_checks", "Checks", id="dashboard.checks"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._period = DEFAULT_PERIOD
        self._data: DashboardData | None = None
        #: The period the panels show; a fetch for another one shows the loading indicator.
        self._shown_period: str | None = None
        self._tickets_for: str | None = None
        self._timer: Timer | None = None

    # -- layout -------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="dashboard"):
            with Vertical(id="dash-left"):
                yield Static(id="sla", classes="panel")
                yield Static(id="priorities", classes="panel")
                yield Static(id="utilization", classes="panel")
            with Vertical(id="dash-right"):
                yield KeyedTable(CHECK_COLUMNS, id="checks")
                yield KeyedTable(TICKET_COLUMNS, id="check-tickets")
                with Horizontal(id="dash-open"):
                    yield Static(id="aging", classes="panel")
                    yield Static(id="load", classes="panel")

    def on_mount(self) -> None:
        checks = self.query_one("#checks", KeyedTable)
        # One line per check: 11 checks fit without a header row.
        checks.show_header = False
        checks.border_title = "Desk health checks"
        tickets = self.query_one("#check-tickets", KeyedTable)
        tickets.border_title = "Tickets of the check"
        tickets.border_subtitle = "enter opens · esc back"
        self.query_one("#sla").border_title = "SLA met"
        self.query_one("#priorities").border_title = "Priority mix"
        self.query_one("#utilization").border_title = "Billable utilisation this week"
        self.query_one("#aging").border_title = "Open by age"
        self.query_one("#load").border_title = "Open per tech"
        checks.focus()
        self._timer = self.set_interval(REFRESH_SECONDS, self._tick)

    def loading_widgets(self) -> list[Widget]:
        # The full indicator only when the panels would otherwise show another period's
        # figures (or none); a routine refresh updates in place without flicker.
        if self._data is not None and self._shown_period == self._period:
            return []
        return [self.query_one(f"#{name}") for name in ("sla", "priorities", "utilization")] + [
            self.query_one("#checks"),
            self.query_one("#dash-open"),
        ]

    # -- loading ------------------------------------------------------------------------

    def _tick(self) -> None:
        # Only while visible: a dashboard behind a modal or another mode need not read.
        if self.app.screen is self:
            self.reload()

    def reload(self) -> None:
        self.query_one("#checks").border_subtitle = "refreshing…"
        super().reload()

    def fetch(self, desk: Desk) -> DashboardData:
        return dashboard_data.load_dashboard(desk, self._period, self.shop_zone, self._tickets_for)

    def show(self, data: Any) -> None:
        assert isinstance(data, DashboardData)
        first_load = self._data is None
        self._data = data
        self._shown_period = data.period_key
        period = f"{data.period_label} · {describe(data.sla.period.first, data.sla.period.last)}"
        sla = self.query_one("#sla", Static)
        sla.border_title = f"SLA met · {period}"
        weeks = data.sla.weeks
        sla.border_subtitle = f"trend {weeks[0].name} – {weeks[-1].name}" if weeks else ""
        sla.update(sla_panel(data.sla))
        priorities = self.query_one("#priorities", Static)
        priorities.border_title = f"Priority mix · {period}"
        priorities.update(priority_chart(data.priorities))
        utilization = utilization_text(data.utilization, name_width=UTIL_NAME_WIDTH)
        utilization.append_text(flag_legend(data.utilization))
        self.query_one("#utilization", Static).update(utilization)
        self.query_one("#aging", Static).update(aging_chart(data.aging))
        self.query_one("#load", Static).update(load_chart(data.load))
        checks = self.query_one("#checks", KeyedTable)
        checks.show_rows(check_rows(data.checks))
        offending = sum(1 for c in data.checks if not c.clean)
        checks.border_title = f"Desk health checks · {offending} need attention"
        local = data.now.astimezone(self.shop_zone)
        checks.border_subtitle = f"updated {local:%H:%M:%S} in {data.seconds:.1f} s"
        if first_load:
            # Start where the work is: the first check that found something.
            first = next((c.id for c in data.checks if not c.clean), None)
            if first is not None:
                checks.move_cursor(row=checks.get_row_index(first))
        if data.tickets is not None and data.tickets.check_id == checks.current_key:
            self._show_tickets(data.tickets)
        else:
            self._select_check(checks.current_key)

    # -- the check under the cursor and its tickets -------------------------------------

    @on(DataTable.RowHighlighted, "#checks")
    def _check_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._select_check(event.row_key.value)

    def _select_check(self, check_id: str | None) -> None:
        if check_id is None or check_id == self._tickets_for or self._data is None:
            return
        result = next((c for c in self._data.checks if c.id == check_id), None)
        if result is None:
            return
        self._tickets_for = check_id
        self.query_one("#check-tickets").loading = True
        self._load_tickets(result)

    @work(thread=True, exclusive=True, group=TICKETS_GROUP, exit_on_error=False)
    def _load_tickets(self, result: CheckResult) -> None:
        try:
            tickets = dashboard_data.check_tickets(self.desk, result)
        except (StoreError, DispatchError) as exc:
            self.post_message(self.Failed(error_line(exc)))
            return
        self.app.call_from_thread(self._tickets_loaded, tickets)

    def _tickets_loaded(self, tickets: CheckTickets) -> None:
        # A later highlight may have asked for another check meanwhile; show only the latest.
        if tickets.check_id == self._tickets_for:
            self._show_tickets(tickets)

    def _show_tickets(self, tickets: CheckTickets) -> None:
        self._tickets_for = tickets.check_id
        table = self.query_one("#check-tickets", KeyedTable)
        table.loading = False
        data = self._data
        now = data.now if data else None
        table.show_rows(ticket_rows(tickets.rows, now) if now else [])
        checks = data.checks if data else []
        result = next((c for c in checks if c.id == tickets.check_id), None)
        title = result.title if result else tickets.check_id
        listed = len(tickets.rows)
        shown = f"{listed} of {tickets.count}" if tickets.count > listed else str(tickets.count)
        table.border_title = f"{title} · {shown}"
        if result is not None and result.technicians:
            # The utilisation check is about people: name them where tickets would be.
            table.border_subtitle = "technicians: " + ", ".join(result.technicians)
        else:
            table.border_subtitle = "enter opens · esc back"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        if event.worker.group == TICKETS_GROUP and event.state == WorkerState.ERROR:
            self.query_one("#check-tickets").loading = False
            self.post_message(self.Failed(error_line(event.worker.error)))

    # -- keys ---------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#checks")
    def _check_chosen(self, event: DataTable.RowSelected) -> None:
        self._select_check(event.row_key.value)
        self.query_one("#check-tickets", KeyedTable).focus()

    @on(DataTable.RowSelected, "#check-tickets")
    def _ticket_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(TicketDetailScreen(int(event.row_key.value)))

    def action_back_to_checks(self) -> None:
        self.query_one("#checks", KeyedTable).focus()

    def action_cycle_period(self) -> None:
        self.action_period(next_period(self._period))

    def action_period(self, key: str) -> None:
        if key == self._period and self._shown_period == key:
            return
        self._period = key
        self.notify(f"Period: {choice(key).label}", timeout=2, markup=False)
        self.reload()
