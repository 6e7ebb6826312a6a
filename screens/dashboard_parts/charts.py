"""The dashboard's charts as Rich ``Text``: pure functions over report values, no widgets.

Bars use eighth-blocks so small differences show at 10-20 columns. Names that come
from the database (technicians) pass through ``one_line`` and are appended as plain
text, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from dispatch_tui.rules.sla_outcome import Tally
from dispatch_tui.rules.utilization import FLAG_TEXT, Flag
from dispatch_tui.screens.schedule_parts.panels import FLAG_STYLE
from dispatch_tui.services.reports import CLOCKS, AgeBucket, PriorityCount, SlaReport, TechLoad
from dispatch_tui.services.timesheets import UtilizationReport
from dispatch_tui.textsafe import one_line

EIGHTHS = " ▏▎▍▌▋▊▉"
SPARK = "▁▂▃▄▅▆▇█"
#: Share of tickets meeting target at or above which a clock shows green, and below
#: which it shows red: when triage meets its hour the later targets follow, so a desk
#: under 75% has a process problem, not bad luck.
GOOD_SHARE = 0.90
POOR_SHARE = 0.75
#: Where a healthy desk peaks, per ticket type (domain primer).
HEALTHY_PEAK = {"incident": "medium", "service_request": "quick_hit"}
TYPE_TITLES = {"incident": "Incidents", "service_request": "Service requests"}
PRIORITY_ORDER = ("critical", "high", "medium", "low", "quick_hit", "untriaged")
CLOCK_TITLES = {
    "first_response": "First resp.",
    "engagement": "Engaged",
    "resolution": "Resolved",
}


def hbar(value: float, maximum: float, width: int) -> str:
    """``value`` of ``maximum`` as a bar ``width`` cells long, to an eighth of a cell."""
    if maximum <= 0 or value <= 0:
        return " " * width
    eighths = round(min(value, maximum) / maximum * width * 8)
    # Anything above zero shows at least a sliver: "none" and "a few" must differ.
    eighths = max(eighths, 1)
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(width)


def share_style(share: float | None) -> str:
    if share is None:
        return "dim"
    if share >= GOOD_SHARE:
        return "green"
    return "yellow" if share >= POOR_SHARE else "bold red"


def _share_cell(tally: Tally, width: int) -> Text:
    share = tally.share
    if share is None:
        return Text("—".rjust(5).ljust(width), style="dim")
    cell = Text(f"{share:5.0%} ", style=share_style(share))
    cell.append(hbar(share, 1.0, width - 6), style=share_style(share))
    return cell


def priority_name(name: str) -> str:
    return name.replace("_", " ")


def sla_table(report: SlaReport, cell_width: int = 14) -> Text:
    """Per priority: tickets, then share met (and a bar) for each of the three clocks."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{'Priority':<10}{'Tickets':>7} ", style="bold")
    for clock in CLOCKS:
        text.append(f"{CLOCK_TITLES[clock]:<{cell_width}}", style="bold")
    for group in report.groups:
        text.append("\n")
        style = "bold" if group.name == "all" else ""
        text.append(f"{priority_name(group.name):<10}", style=style)
        text.append(f"{group.tickets:>6}  ", style=style)
        for clock in CLOCKS:
            tally = group.tally(clock)
            # Untriaged tickets have only a first-response clock: blanks, not dashes.
            if group.name == "untriaged" and clock != "first_response":
                text.append(" " * cell_width)
                continue
            text.append_text(_share_cell(tally, cell_width))
    if len(report.groups) <= 1 and not report.groups[0].tickets:
        text.append("\nNo tickets arrived in this period.", style="dim")
    return text


def sla_panel(report: SlaReport) -> Text:
    """The period's table, then one trend line per clock for the whole desk by week."""
    text = sla_table(report)
    for clock in CLOCKS:
        text.append("\n")
        text.append(f"{CLOCK_TITLES[clock]:<12}", style="dim")
        text.append_text(trend_line(report, clock))
    return text


def _spark(share: float) -> str:
    return SPARK[min(len(SPARK) - 1, int(share * len(SPARK)))]


def trend_line(report: SlaReport, clock: str, cell: int = 2) -> Text:
    """The desk's weekly share met, oldest first, on a fixed 0-100% scale.

    Textual's Sparkline scales between the series' own minimum and maximum, so a week
    at 87% among weeks at 100% would sit on the floor; a manager reading the trend
    must see 87% as nearly full. Each week is ``cell`` blocks coloured like the table,
    a week with nothing decided is blank, and the label gives the latest and lowest.
    """
    shares = [w.tally(clock).share for w in report.weeks]
    text = Text(no_wrap=True)
    for share in shares:
        if share is None:
            text.append("·".ljust(cell), style="dim")
        else:
            text.append(_spark(share) * cell, style=share_style(share))
        text.append(" ")
    known = [s for s in shares if s is not None]
    if not known:
        text.append(" no data", style="dim")
        return text
    text.append(f"{known[-1]:4.0%}", style=share_style(known[-1]))
    text.append(f"  low {min(known):.0%}", style="dim")
    return text


def _type_lines(kind: str, rows: Sequence[PriorityCount], bar_width: int) -> list[Text]:
    mine = {r.priority: r for r in rows if r.ticket_type == kind}
    total = sum(r.count for r in mine.values())
    names = [p for p in PRIORITY_ORDER if p in mine or p in ("critical", "high", "medium", "low")]
    if kind == "service_request" and "quick_hit" not in names:
        names.insert(4, "quick_hit")
    peak = max(mine.values(), key=lambda r: r.count).priority if mine else None
    healthy = HEALTHY_PEAK.get(kind)
    title = Text(f"{TYPE_TITLES.get(kind, priority_name(kind))} ({total})", style="bold")
    lines = [title]
    biggest = max((r.count for r in mine.values()), default=0)
    for name in names:
        row = mine.get(name)
        count = row.count if row else 0
        line = Text(no_wrap=True)
        marker = "◆" if name == healthy else " "
        line.append(marker, style="cyan")
        line.append(f"{priority_name(name):<10}")
        style = "green" if name == peak and name == healthy else "yellow" if name == peak else ""
        line.append(hbar(count, biggest, bar_width), style=style or "blue")
        line.append(f"{count:>5}")
        line.append(f" {row.share:4.0%}" if row else "     ", style="dim")
        lines.append(line)
    verdict = Text(no_wrap=True)
    if peak is None:
        verdict.append("no tickets", style="dim")
    elif peak == healthy:
        verdict.append(f"peaks at {priority_name(peak)}: healthy", style="green")
    else:
        verdict.append(
            f"peaks at {priority_name(peak)}, not {priority_name(healthy or '?')}",
            style="yellow",
        )
    lines.append(verdict)
    return lines


def priority_chart(rows: Sequence[PriorityCount], bar_width: int = 8, gap: int = 2) -> Text:
    """Incidents and service requests side by side, ◆ marking where a healthy desk peaks."""
    columns = [_type_lines(kind, rows, bar_width) for kind in ("incident", "service_request")]
    untyped = sum(r.count for r in rows if r.ticket_type not in HEALTHY_PEAK)
    width = 1 + 10 + bar_width + 5 + 5
    height = max(len(c) for c in columns)
    text = Text(no_wrap=True, overflow="ellipsis")
    for index in range(height):
        if index:
            text.append("\n")
        for number, column in enumerate(columns):
            line = column[index] if index < len(column) else Text()
            if number:
                text.append(" " * gap)
                text.append_text(line)
            else:
                padded = line.copy()
                padded.truncate(width, pad=True)
                text.append_text(padded)
    text.append("\n")
    text.append("◆ where a healthy desk peaks", style="dim")
    if untyped:
        text.append(f"   {untyped} not yet typed (untriaged)", style="dim")
    return text


def aging_chart(buckets: Sequence[AgeBucket], bar_width: int = 10) -> Text:
    """Open tickets by age; the old buckets stand out because they are the forgotten ones."""
    biggest = max((b.count for b in buckets), default=0)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{sum(b.count for b in buckets)} open\n", style="dim")
    for index, bucket in enumerate(buckets):
        if index:
            text.append("\n")
        old = index >= len(buckets) - 2
        style = "yellow" if old and bucket.count else "blue"
        text.append(f"{bucket.label:<6}")
        text.append(hbar(bucket.count, biggest, bar_width), style=style)
        text.append(f"{bucket.count:>5}")
    return text


def load_chart(rows: Sequence[TechLoad], name_width: int = 12, bar_width: int = 5) -> Text:
    """Open tickets per technician, unassigned last (they wait for dispatch)."""
    biggest = max((r.open_tickets for r in rows), default=0)
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, row in enumerate(rows):
        if index:
            text.append("\n")
        name = one_line(row.tech) if row.tech is not None else "unassigned"
        style = "dim italic" if row.tech is None else ""
        text.append(name[: name_width - 1].ljust(name_width), style=style)
        text.append(hbar(row.open_tickets, biggest, bar_width), style="blue")
        text.append(f"{row.open_tickets:>5}")
    return text


def flag_legend(report: UtilizationReport) -> Text:
    """What each flag on the panel means, for the flags that are up: "high" alone does
    not say whether to worry about overwork or padded time sheets."""
    text = Text(no_wrap=True, overflow="ellipsis")
    thresholds = report.thresholds
    levels = {Flag.HIGH: f"≥{thresholds.high:.0%}", Flag.LOW: f"<{thresholds.low:.0%}"}
    for flag in (Flag.HIGH, Flag.LOW, Flag.NO_HOURS):
        names = [one_line(r.tech) for r in report.rows if r.flag == flag]
        if not names:
            continue
        text.append(f"\n{flag.value.replace('_', ' ')}", style=FLAG_STYLE[flag])
        level = levels.get(flag)
        text.append(f" {level}" if level else "")
        text.append(f": {FLAG_TEXT[flag]} ({len(names)})", style="dim")
    return text
