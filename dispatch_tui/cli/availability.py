"""``dispatch-tui tech hours`` and ``tech away``: when a technician can be booked.

They are ``tech`` sub-commands but live here, so techs.py stays about the roster.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch_tui.cli.common import (
    ActorOption,
    DbOption,
    JsonOption,
    emit_json,
    local,
    open_desk,
    parse_local_time,
)
from dispatch_tui.services import availability, settings


def hours(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Technician name or id.")],
    days: Annotated[str, typer.Option(help="Working days, e.g. mon,tue,wed,thu,fri.")],
    start: Annotated[str, typer.Option(help="Shop-local start of day, HH:MM.")],
    end: Annotated[
        str, typer.Option(help="Shop-local end of day, HH:MM (before start: night shift).")
    ],
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a technician's weekly working hours (shop-local wall-clock times)."""
    desk = open_desk(ctx, db, actor)
    tech = availability.set_working_hours(desk, name, days=days, start=start, end=end)
    if as_json:
        emit_json({"technician": tech})
    else:
        typer.echo(f"{tech.name} works {tech.work_days} {tech.work_start}-{tech.work_end}")


def away(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Technician name or id.")],
    from_: Annotated[str, typer.Option("--from", help="Shop-local start, 'YYYY-MM-DD HH:MM'.")],
    to: Annotated[str, typer.Option("--to", help="Shop-local end, 'YYYY-MM-DD HH:MM'.")],
    reason: Annotated[str, typer.Option(help="e.g. vacation, training.")] = "",
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record an out-of-office period: no calls then, and it leaves utilisation."""
    desk = open_desk(ctx, db, actor)
    zone = settings.shop_timezone(desk)
    row = availability.add_out_of_office(
        desk,
        name,
        parse_local_time(from_, zone, what="--from"),
        parse_local_time(to, zone, what="--to"),
        reason=reason,
    )
    if as_json:
        emit_json({"out_of_office": row})
    else:
        typer.echo(
            f"out-of-office #{row.id}: {local(row.starts_at, zone)} to {local(row.ends_at, zone)}"
        )


def register(app: typer.Typer) -> None:
    app.command("hours")(hours)
    app.command("away")(away)
