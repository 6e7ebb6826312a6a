"""``dispatch-tui report ...``: desk reports for the service manager.

One command per report; each prints a table, or with --json one object, or with
--csv a header row and one row per line for a spreadsheet.
"""

from __future__ import annotations

import csv
import sys
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
from dispatch_tui.services import timesheets

app = typer.Typer(help="Reports: utilisation and more.", no_args_is_help=True)

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
