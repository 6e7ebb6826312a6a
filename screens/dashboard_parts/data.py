"""Everything the dashboard shows, read in one call on a worker thread (services only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dispatch_tui.rules.health import CheckResult
from dispatch_tui.rules.utilization import IsoWeek
from dispatch_tui.screens.dashboard_parts.periods import choice, period_dates
from dispatch_tui.services import health, reports, timesheets
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.reports import AgeBucket, PriorityCount, SlaReport, TechLoad
from dispatch_tui.services.timesheets import UtilizationReport
from dispatch_tui.store.queries import TicketRow
from dispatch_tui.store.types import utcnow

#: The clock the dashboard reads; tests and snapshots replace it to pin "now".
clock: Callable[[], datetime] = utcnow
#: Offending tickets listed for one check; the check's count says how many there are.
TICKET_LIMIT = 200


@dataclass(frozen=True)
class CheckTickets:
    """The listed tickets of one check, as of one run of that check."""

    check_id: str
    count: int
    rows: list[TicketRow]


@dataclass(frozen=True)
class DashboardData:
    period_key: str
    sla: SlaReport
    priorities: list[PriorityCount]
    utilization: UtilizationReport
    aging: list[AgeBucket]
    load: list[TechLoad]
    checks: list[CheckResult]
    #: The tickets of the check selected when the fetch started (None: no selection).
    tickets: CheckTickets | None
    now: datetime
    seconds: float

    @property
    def period_label(self) -> str:
        return choice(self.period_key).label


def check_tickets(desk: Desk, result: CheckResult) -> CheckTickets:
    """The tickets of a result already on screen: one indexed read by id, not a rerun of
    the check, so walking the list stays instant at 100k tickets and the tickets agree
    with the count beside them (both as of the last refresh)."""
    rows = health.tickets_of(desk, result, limit=TICKET_LIMIT)
    return CheckTickets(result.id, result.count, rows)


def load_dashboard(
    desk: Desk, period_key: str, zone: ZoneInfo, selected_check: str | None
) -> DashboardData:
    started = time.perf_counter()
    now = clock()
    first, last = period_dates(period_key, now.astimezone(zone).date())
    sla = reports.sla_report(desk, first, last, now=now)
    _period, priorities = reports.priority_distribution(desk, first, last, now=now)
    utilization = timesheets.utilization_report(
        desk, IsoWeek.containing(now.astimezone(zone).date())
    )
    checks = health.run_checks(desk, now=now)
    selected = next((c for c in checks if c.id == selected_check), None)
    return DashboardData(
        period_key=period_key,
        sla=sla,
        priorities=priorities,
        utilization=utilization,
        aging=reports.open_ticket_aging(desk, now=now),
        load=reports.open_tickets_per_technician(desk),
        checks=checks,
        tickets=check_tickets(desk, selected) if selected is not None else None,
        now=now,
        seconds=time.perf_counter() - started,
    )
