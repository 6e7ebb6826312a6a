"""The roster panel's rows: tier, skills, working now, load and this week's utilisation."""

from __future__ import annotations

from rich.text import Text

from dispatch_tui.screens.cells import cell
from dispatch_tui.services.roster import Roster, RosterRow

ROSTER_COLUMNS = [
    ("Technician", 12),
    ("T", 1),
    ("Now", 14),
    ("Open", 4),
    ("Q h", 4),
    ("Util", 4),
    ("Skills", None),
]


def util_text(row: RosterRow, target: float) -> Text:
    if row.utilization is None:
        return Text("—", style="dim")
    percent = round(row.utilization * 100)
    # Under target is spare capacity to dispatch to; the flag marks the extremes.
    style = "bold red" if row.flag_text and percent >= target * 100 else ""
    style = style or ("yellow" if row.flag_text else "green" if percent >= target * 100 else "")
    return Text(f"{percent}%", style=style)


def roster_rows(roster: Roster) -> list[tuple[int, list[Text]]]:
    rows = []
    for row in roster.rows:
        load = row.load
        rows.append(
            (
                load.id,
                [
                    cell(load.name),
                    cell(load.tier),
                    cell(load.status, "green" if load.working_now else "dim"),
                    cell(load.open_tickets),
                    cell(
                        f"{load.queued_hours:.0f}"
                        if load.queued_hours >= 100
                        else f"{load.queued_hours:g}"
                    ),
                    util_text(row, roster.target),
                    cell(", ".join(load.skills)),
                ],
            )
        )
    return rows
