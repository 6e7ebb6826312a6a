"""The side panels' text: practice flags and utilisation bars, built as Rich ``Text``.

Pure functions (no widgets): client text goes through ``one_line`` and is appended as
plain text, so a summary holding "[bold]" shows those characters, never markup.
"""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text

from dispatch_tui.rules.utilization import Flag
from dispatch_tui.services.schedule import LONG_ESTIMATE_HOURS, FlaggedTicket
from dispatch_tui.services.timesheets import UtilizationReport
from dispatch_tui.textsafe import one_line

#: Characters of bar for 0..BAR_MAX utilisation.
BAR_WIDTH = 12
#: The bar's right end: above 100% is possible (overtime), so leave room past it.
BAR_MAX = 1.2
#: Flagged tickets listed per flag; the count says how many more there are.
FLAG_ROWS = 3

FLAG_STYLE = {Flag.OK: "green", Flag.HIGH: "bold red", Flag.LOW: "yellow", Flag.NO_HOURS: "dim"}


def _ticket_line(ticket: FlaggedTicket, extra: str) -> Text:
    line = Text(f"  #{ticket.id} ", style="bold")
    line.append(one_line(f"{ticket.client}: {ticket.summary}"))
    if extra:
        line.append(f"  {extra}", style="dim")
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


def flags_text(
    long_unbooked: list[FlaggedTicket], stale: list[FlaggedTicket], zone: tzinfo
) -> Text:
    """The two rules from practice: long work not booked, and booked work whose calls
    are all over while the ticket is still open."""
    text = Text(no_wrap=True, overflow="ellipsis")
    style = "bold yellow" if long_unbooked else "green"
    text.append(f"{len(long_unbooked)} over {LONG_ESTIMATE_HOURS:g} h, not booked\n", style=style)
    for ticket in long_unbooked[:FLAG_ROWS]:
        text.append_text(_ticket_line(ticket, f"{ticket.estimate_hours or 0:g} h"))
        text.append("\n")
    style = "bold yellow" if stale else "green"
    text.append(f"{len(stale)} open, every call past\n", style=style)
    for ticket in stale[:FLAG_ROWS]:
        ended = ticket.last_call_end
        when = f"last {ended.astimezone(zone):%d %b}" if ended else ""
        text.append_text(_ticket_line(ticket, when))
        text.append("\n")
    text.rstrip()
    return text


def bar(ratio: float | None, target: float, width: int = BAR_WIDTH) -> Text:
    """A bar of billable / available with the target marked by "|"."""
    filled = 0 if ratio is None else round(min(ratio, BAR_MAX) / BAR_MAX * width)
    mark = min(width - 1, round(target / BAR_MAX * width))
    text = Text()
    for index in range(width):
        if index == mark:
            text.append("|", style="bold")
        else:
            text.append("█" if index < filled else "░", style="" if index < filled else "dim")
    return text


def utilization_text(report: UtilizationReport, name_width: int = 11) -> Text:
    """One line per technician: name, bar, percentage and the flag's word."""
    thresholds = report.thresholds
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(
        f"{report.week}  | target {thresholds.target:.0%}  "
        f"high ≥{thresholds.high:.0%}  low <{thresholds.low:.0%}\n",
        style="dim",
    )
    for row in report.rows:
        text.append(one_line(row.tech)[: name_width - 1].ljust(name_width))
        text.append_text(bar(row.utilization, thresholds.target))
        style = FLAG_STYLE[row.flag]
        percent = "  —" if row.utilization is None else f"{row.utilization:4.0%}"
        text.append(f" {percent}", style=style)
        text.append(f" {row.billable_hours:g}/{row.available_hours:g}", style="dim")
        if row.flag in (Flag.HIGH, Flag.LOW):
            text.append(f" {row.flag.value}", style=style)
        text.append("\n")
    text.rstrip()
    return text
