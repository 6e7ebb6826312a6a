"""The "to book" side list: its columns, one row per ticket, and the line describing the
ticket under the list's cursor.

Pure functions building Rich ``Text``: client names and summaries go through ``cell`` /
``one_line`` and are appended as plain text, so "[bold]" in a summary shows as typed.
"""

from __future__ import annotations

from rich.text import Text

from dispatch_tui.screens.cells import cell
from dispatch_tui.services.schedule import BookReason, FlaggedTicket
from dispatch_tui.textsafe import one_line

#: The reason column fits eight characters; the line under the list spells it out.
REASON_TAG = {
    BookReason.LONG_UNBOOKED: "over 4 h",
    BookReason.CALLS_PAST: "all past",
    BookReason.NOT_BOOKED: "unbooked",
}
#: Long work waiting and forgotten bookings stand out; plain unbooked work is the norm.
REASON_STYLE = {
    BookReason.LONG_UNBOOKED: "bold yellow",
    BookReason.CALLS_PAST: "yellow",
    BookReason.NOT_BOOKED: "dim",
}

COLUMNS: list[tuple[str, int | None]] = [
    ("#", 5),
    ("Est", 4),
    ("Why", 8),
    ("Client: summary", None),
]


def row_cells(ticket: FlaggedTicket) -> list[Text]:
    estimate = "" if ticket.estimate_hours is None else f"{ticket.estimate_hours:g}"
    return [
        cell(ticket.id),
        cell(estimate),
        cell(REASON_TAG[ticket.reason], REASON_STYLE[ticket.reason]),
        cell(f"{ticket.client}: {ticket.summary}"),
    ]


def describe(ticket: FlaggedTicket | None) -> Text:
    """Why the ticket is listed, in full, with its priority and technician."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if ticket is None:
        text.append("Nothing waiting to be booked.", style="dim")
        return text
    text.append(f"#{ticket.id} ", style="bold")
    text.append(ticket.reason.value, style=REASON_STYLE[ticket.reason])
    priority = (ticket.priority or "no priority").replace("_", " ")
    text.append(f"  {priority}", style="dim")
    if ticket.assigned_tech:
        text.append("  → ")
        text.append(one_line(ticket.assigned_tech))
    return text
