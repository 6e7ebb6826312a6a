"""Rows for the dashboard's two tables: the health checks and one check's tickets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from dispatch_tui.rules.health import CheckResult
from dispatch_tui.screens.cells import age, cell
from dispatch_tui.screens.dashboard_parts.charts import priority_name
from dispatch_tui.screens.widgets.keyed_table import RowData
from dispatch_tui.store.queries import TicketRow

CHECK_COLUMNS: list[tuple[str, int | None]] = [("Count", 5), ("Check", None)]
TICKET_COLUMNS: list[tuple[str, int | None]] = [
    # Narrow panel: status and the rest are one Enter away, in the ticket detail.
    ("#", 5),
    ("Priority", 9),
    ("Age", 7),
    ("Client: summary", None),
]


def check_rows(results: Sequence[CheckResult]) -> list[RowData]:
    """Clean checks dimmed, offending ones bold with their count in red: the eye goes
    to what needs doing."""
    rows: list[RowData] = []
    for result in results:
        # Counts are built as Text, not cell(): cell() folds the alignment spaces away.
        if result.clean:
            cells = [Text(f"{0:>5}", style="dim"), cell(result.title, "dim")]
        else:
            cells = [Text(f"{result.count:>5}", style="bold red"), cell(result.title, "bold")]
        rows.append((result.id, cells))
    return rows


def ticket_rows(tickets: Sequence[TicketRow], now: datetime) -> list[RowData]:
    rows: list[RowData] = []
    for ticket in tickets:
        when: Text = age(ticket.created_at, now)
        cells = [
            cell(ticket.id),
            cell(priority_name(ticket.priority or "—")),
            when,
            cell(f"{ticket.client}: {ticket.summary}"),
        ]
        rows.append((ticket.id, cells))
    return rows
