"""Work-list rows and their sort orders: pure over the board data, so tests need no app."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from rich.text import Text

from dispatch_tui.screens.cells import age, cell
from dispatch_tui.services.dispatch_board import BoardTicket, order_key

WORK_COLUMNS = [
    ("#", 5),
    ("Prio", 6),
    ("SLA", 6),
    ("Upd", 6),
    ("Client", 14),
    ("Summary", None),
]
#: Short priority names: the list is narrow at 120 columns, the record spells them out.
PRIORITY_SHORT = {
    "critical": "CRIT",
    "high": "high",
    "medium": "med",
    "low": "low",
    "quick_hit": "quick",
}

PRIORITY_STYLE = {"critical": "bold red", "high": "yellow", "quick_hit": "cyan"}


class SortBy(StrEnum):
    """The orders the sort key cycles through, in that order."""

    PRIORITY = "priority, then SLA time left"
    CLIENT_UPDATE = "oldest client update first"
    AGE = "oldest ticket first"

    def next(self) -> SortBy:
        members = list(SortBy)
        return members[(members.index(self) + 1) % len(members)]


def sort_tickets(items: Iterable[BoardTicket], by: SortBy) -> list[BoardTicket]:
    if by is SortBy.CLIENT_UPDATE:
        # Never updated counts as the oldest update of all: those clients heard nothing.
        return sorted(
            items,
            key=lambda b: (
                b.last_client_update is not None,
                b.last_client_update or b.ticket.created_at,
                order_key(b),
            ),
        )
    if by is SortBy.AGE:
        return sorted(items, key=lambda b: (b.ticket.created_at, b.ticket.id or 0))
    return sorted(items, key=order_key)


def minutes_text(minutes: float | None) -> Text:
    if minutes is None:
        return Text("—")
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(int(abs(minutes)), 60)
    value = f"{sign}{hours}h{rest:02d}" if hours else f"{sign}{rest}m"
    style = "bold red" if minutes < 0 else "yellow" if minutes < 60 else ""
    return Text(value, style=style)


def work_row(item: BoardTicket, marked: bool, now: datetime) -> list[Text]:
    t = item.ticket
    update = (
        age(item.last_client_update, now) if item.last_client_update else Text("never", style="dim")
    )
    number = Text.assemble(("●" if marked else " ", "bold green"), str(t.id))
    return [
        number,
        cell(
            PRIORITY_SHORT.get(t.priority or "", "—") + ("⇑" if t.escalated else ""),
            PRIORITY_STYLE.get(t.priority or "", ""),
        ),
        minutes_text(item.minutes_left),
        update,
        cell(item.client),
        cell(t.summary),
    ]
