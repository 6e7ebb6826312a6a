"""``dispatch-tui report ...``: desk reports for the service manager.

One command per report; each prints a table, or with --json one object, or with
--csv a header row and one row per line for a spreadsheet.
"""

from __future__ import annotations

import csv
import sys
from datetime import date
from typing import Annotated

import typer

from dispatch_tui.cli.common import (
    ActorOption,
    DbOption,
    JsonOption,
    emit_json,
    emit_table,
    open_desk,
)
from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules.sla_outcome import Tally
from dispatch_tui.services import reports as desk_reports
from dispatch_tui.services import timesheets

app = typer.Typer(
    help="Reports: utilisation, SLA, priority mix, aging and load.", no_args_is_help=True
)

CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV on stdout, for spreadsheets.")]


def emit_csv(headers: list[str], rows: list[list[object]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


@app.command("utilization")
def utilization(
    ctx: typer.Context,
    week: Annotated[
        str | None, typer.Option(help="ISO week, YYYY-Www (default: this week).")
    ] = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Billable utilisation per technician: billable hours / available working hours."""
    if as_json and as_csv:
        raise InvalidInput("choose --json or --csv, not both")
    desk = open_desk(ctx, db, actor)
    report = timesheets.utilization_report(desk, week)
    if as_json:
        emit_json(
            {
                "week": report.week,
                "thresholds": report.thresholds,
                "technicians": [
                    {
                        "tech_id": r.tech_id,
                        "tech": r.tech,
                        "billable_hours": r.billable_hours,
                        "total_hours": r.total_hours,
                        "unapproved_billable_hours": r.unapproved_billable_hours,
                        "available_hours": r.available_hours,
                        "utilization": r.utilization,
                        "flag": r.flag.value,
                    }
                    for r in report.rows
                ],
            }
        )
        return
    headers = [
        "tech",
        "billable_h",
        "total_h",
        "unapproved_h",
        "available_h",
        "utilization",
        "flag",
    ]
    if as_csv:
        emit_csv(
            ["week", *headers],
            [
                [
                    report.week,
                    r.tech,
                    r.billable_hours,
                    r.total_hours,
                    r.unapproved_billable_hours,
                    r.available_hours,
                    "" if r.utilization is None else r.utilization,
                    r.flag.value,
                ]
                for r in report.rows
            ],
        )
        return
    t = report.thresholds
    typer.echo(
        f"week {report.week}: target {_percent(t.target)}, "
        f"flagged below {_percent(t.low)} and from {_percent(t.high)}"
    )
    emit_table(
        headers,
        [
            [
                r.tech,
                f"{r.billable_hours:g}",
                f"{r.total_hours:g}",
                f"{r.unapproved_billable_hours:g}",
                f"{r.available_hours:g}",
                _percent(r.utilization),
                r.flag_text,
            ]
            for r in report.rows
        ],
    )


# -- desk reports: SLA, priority mix, aging, load (services/reports.py) -----------------

FromOption = Annotated[
    str | None,
    typer.Option("--from", help="First day, shop-local YYYY-MM-DD (default: 4 weeks ago)."),
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Last day, included, YYYY-MM-DD (default: today).")
]


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not a date; use YYYY-MM-DD") from None


def _one_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        raise InvalidInput("choose --json or --csv, not both")


def _tally(t: Tally) -> dict[str, object]:
    return {"met": t.met, "missed": t.missed, "pending": t.pending, "share": t.share}


@app.command("sla")
def sla(
    ctx: typer.Context,
    first: FromOption = None,
    last: ToOption = None,
    weeks: Annotated[
        int, typer.Option(min=0, max=53, help="Weeks in the trend, up to --to.")
    ] = desk_reports.TREND_WEEKS,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """SLA performance: share of tickets whose first response, engagement and resolution
    met target, by priority over the period, and per week (the trend)."""
    _one_format(as_json, as_csv)
    desk = open_desk(ctx, db, actor)
    report = desk_reports.sla_report(desk, _day(first, "--from"), _day(last, "--to"), weeks=weeks)
    clocks = desk_reports.CLOCKS
    if as_json:
        emit_json(
            {
                "from": report.period.first,
                "to": report.period.last,
                "by_priority": [
                    {"priority": g.name, "tickets": g.tickets}
                    | {c: _tally(g.tally(c)) for c in clocks}
                    for g in report.groups
                ],
                "weeks": [
                    {"week": g.name, "tickets": g.tickets} | {c: _tally(g.tally(c)) for c in clocks}
                    for g in report.weeks
                ],
            }
        )
        return
    scoped = [("priority", g) for g in report.groups] + [("week", g) for g in report.weeks]
    if as_csv:
        emit_csv(
            ["scope", "name", "tickets"]
            + [f"{c}_{part}" for c in clocks for part in ("met", "missed", "pending", "share")],
            [
                [scope, g.name, g.tickets]
                + [
                    value
                    for c in clocks
                    for value in (
                        g.tally(c).met,
                        g.tally(c).missed,
                        g.tally(c).pending,
                        "" if g.tally(c).share is None else g.tally(c).share,
                    )
                ]
                for scope, g in scoped
            ],
        )
        return
    typer.echo(f"SLA met, tickets that arrived {report.period.first} to {report.period.last}")
    emit_table(
        ["scope", "name", "tickets", "first response", "engagement", "resolution"],
        [
            [scope, g.name, str(g.tickets)] + [_percent(g.tally(c).share) for c in clocks]
            for scope, g in scoped
        ],
    )


@app.command("priority")
def priority(
    ctx: typer.Context,
    first: FromOption = None,
    last: ToOption = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Priority distribution of the period's tickets, incidents apart from service requests."""
    _one_format(as_json, as_csv)
    desk = open_desk(ctx, db, actor)
    start, end = _day(first, "--from"), _day(last, "--to")
    period, rows = desk_reports.priority_distribution(desk, start, end)
    if as_json:
        emit_json({"from": period.first, "to": period.last, "rows": rows})
        return
    headers = ["type", "priority", "tickets", "share"]
    if as_csv:
        emit_csv(headers, [[r.ticket_type, r.priority, r.count, r.share] for r in rows])
        return
    typer.echo(f"tickets that arrived {period.first} to {period.last}")
    emit_table(
        headers, [[r.ticket_type, r.priority, str(r.count), _percent(r.share)] for r in rows]
    )


@app.command("aging")
def aging(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Open tickets by age (since they arrived), as of now."""
    _one_format(as_json, as_csv)
    desk = open_desk(ctx, db, actor)
    buckets = desk_reports.open_ticket_aging(desk)
    if as_json:
        emit_json({"buckets": buckets, "open": sum(b.count for b in buckets)})
        return
    if as_csv:
        emit_csv(["age", "tickets"], [[b.label, b.count] for b in buckets])
        return
    emit_table(["age", "tickets"], [[b.label, str(b.count)] for b in buckets])


@app.command("load")
def load(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Open tickets per technician, as of now; the last row is those nobody has yet."""
    _one_format(as_json, as_csv)
    desk = open_desk(ctx, db, actor)
    rows = desk_reports.open_tickets_per_technician(desk)
    if as_json:
        emit_json({"technicians": rows})
        return
    body = [[r.tech or "(unassigned)", r.open_tickets] for r in rows]
    if as_csv:
        emit_csv(["tech", "open_tickets"], body)
        return
    emit_table(["tech", "open tickets"], [[name, str(count)] for name, count in body])
