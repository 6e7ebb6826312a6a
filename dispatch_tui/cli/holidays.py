"""``dispatch-tui holiday ...``: the days the shop is closed."""

from __future__ import annotations

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
from dispatch_tui.services import holidays

app = typer.Typer(help="Add and list shop holidays.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="e.g. 'Christmas Day'.")],
    on: Annotated[str | None, typer.Option("--date", help="A single date, YYYY-MM-DD.")] = None,
    rule: Annotated[
        str | None,
        typer.Option(help="A yearly rule (RFC 5545), e.g. FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25."),
    ] = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a holiday: either --date or --rule."""
    day = None
    if on is not None:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise InvalidInput(f"--date must look like YYYY-MM-DD, not {on!r}") from None
    desk = open_desk(ctx, db, actor)
    holiday = holidays.add_holiday(desk, name, day=day, rrule=rule)
    if as_json:
        emit_json({"holiday": holiday})
    else:
        typer.echo(f"holiday #{holiday.id} {holiday.name} added ({holiday.day or holiday.rrule})")


@app.command("list")
def list_(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the shop's holidays."""
    desk = open_desk(ctx, db, actor)
    rows = holidays.list_holidays(desk)
    if as_json:
        emit_json({"holidays": rows})
        return
    emit_table(
        ["id", "name", "when"],
        [[str(h.id), h.name, str(h.day) if h.day else (h.rrule or "")] for h in rows],
    )
