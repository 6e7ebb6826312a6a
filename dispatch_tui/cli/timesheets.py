"""``dispatch-tui time ...``: log time on tickets and approve it."""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch_tui.cli.common import (
    ActorOption,
    DbOption,
    JsonOption,
    emit_json,
    emit_table,
    local,
    open_desk,
    parse_local_time,
)
from dispatch_tui.services import settings, timesheets

app = typer.Typer(help="Log and approve technicians' time entries.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    ticket: Annotated[int, typer.Argument(help="Ticket number.")],
    tech: Annotated[str, typer.Option(help="Technician name or id.")],
    hours: Annotated[float, typer.Option(help="Hours worked, e.g. 0.75.")],
    billable: Annotated[
        bool, typer.Option("--billable/--no-billable", help="Billable to the client.")
    ] = True,
    note: Annotated[str, typer.Option(help="What was done.")] = "",
    start: Annotated[
        str | None,
        typer.Option(help="Shop-local start, 'YYYY-MM-DD HH:MM' (default: just finished)."),
    ] = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Log a time entry; it waits for approval."""
    desk = open_desk(ctx, db, actor)
    zone = settings.shop_timezone(desk)
    entry = timesheets.add_time_entry(
        desk,
        ticket,
        tech,
        hours,
        billable=billable,
        note=note,
        started_at=parse_local_time(start, zone, what="--start") if start else None,
    )
    if as_json:
        emit_json({"time_entry": entry})
    else:
        kind = "billable" if entry.billable else "non-billable"
        typer.echo(
            f"time entry #{entry.id}: {entry.hours:g} h {kind} on ticket #{entry.ticket_id} "
            f"from {local(entry.started_at, zone)}, waiting for approval"
        )


@app.command("approve")
def approve(
    ctx: typer.Context,
    ids: Annotated[list[int], typer.Argument(help="Time entry ids.")],
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve time entries (ones already approved are left as they are)."""
    desk = open_desk(ctx, db, actor)
    approved = timesheets.approve_time_entries(desk, ids)
    if as_json:
        emit_json({"approved": approved})
        return
    skipped = len(set(ids)) - len(approved)
    note = f" ({skipped} already approved)" if skipped else ""
    typer.echo(f"approved {len(approved)} time entr{'y' if len(approved) == 1 else 'ies'}{note}")


@app.command("pending")
def pending(
    ctx: typer.Context,
    tech: Annotated[str | None, typer.Option(help="Only this technician.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.", min=1)] = 500,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """List time entries waiting for approval, oldest first."""
    desk = open_desk(ctx, db, actor)
    zone = settings.shop_timezone(desk)
    rows = timesheets.pending_time_entries(desk, tech=tech, limit=limit)
    if as_json:
        emit_json({"time_entries": rows})
        return
    emit_table(
        ["id", "started", "hours", "billable", "tech", "ticket", "client", "note"],
        [
            [
                str(r.id),
                local(r.started_at, zone),
                f"{r.hours:g}",
                "yes" if r.billable else "no",
                r.tech,
                f"#{r.ticket_id}",
                r.client,
                r.note,
            ]
            for r in rows
        ],
    )
