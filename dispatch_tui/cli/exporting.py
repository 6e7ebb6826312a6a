"""``dispatch-tui export tickets|technicians|time``: CSV or JSON for spreadsheets and accounting.

Rows stream from the database in batches straight to the output, so an export of
any size runs in constant memory. With ``--output`` the file is written beside its
final name and renamed into place at the end: a failed export never leaves half a file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dispatch_tui.cli.common import ActorOption, DbOption, open_desk
from dispatch_tui.errors import InvalidInput
from dispatch_tui.services import exporter, settings
from dispatch_tui.services.tickets import parse_status


class What(StrEnum):
    TICKETS = "tickets"
    TECHNICIANS = "technicians"
    TIME = "time"


def export(
    ctx: typer.Context,
    what: Annotated[What, typer.Argument(help="What to export.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV (the default).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    status: Annotated[
        list[str] | None,
        typer.Option(help="Tickets only: only these statuses (repeat, or comma-separated)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Export rows as CSV (times shop-local with their offset) or as one JSON object."""
    if as_csv and as_json:
        raise InvalidInput("choose one of --csv and --json")
    statuses = tuple(
        parse_status(s) for value in status or () for s in value.split(",") if s.strip()
    )
    if statuses and what is not What.TICKETS:
        raise InvalidInput("--status applies to tickets only")
    if output is not None and not output.expanduser().parent.is_dir():
        raise InvalidInput(f"the folder {output.expanduser().parent} does not exist")
    desk = open_desk(ctx, db, actor)
    tz = settings.shop_timezone(desk)
    if what is What.TICKETS:
        rows, columns = exporter.ticket_rows(desk, tz, statuses=statuses), exporter.TICKET_COLUMNS
    elif what is What.TECHNICIANS:
        rows, columns = exporter.technician_rows(desk, tz), exporter.TECHNICIAN_COLUMNS
    else:
        rows, columns = exporter.time_rows(desk, tz), exporter.TIME_COLUMNS

    def write(out) -> int:
        if as_json:
            return exporter.write_json(rows, what.value, out)
        return exporter.write_csv(rows, columns, out)

    if output is None:
        write(sys.stdout)
        sys.stdout.flush()
        return
    target = output.expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            count = write(fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sys.stderr.write(f"exported {count} {what.value} rows to {target}\n")
