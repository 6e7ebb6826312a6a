"""``dispatch-tui init`` and ``dispatch-tui demo``: creating a database."""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch_tui.cli.common import ActorOption, DbOption, JsonOption, db_path, emit_json, open_desk
from dispatch_tui.services import settings


def init(
    ctx: typer.Context,
    timezone: Annotated[
        str, typer.Option(help="The shop's time zone (IANA name), used for business hours.")
    ] = settings.DEFAULT_TIMEZONE,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an empty database (or bring an older one up to the current schema)."""
    settings.parse_timezone(timezone)
    path = db_path(ctx, db)
    existed = path.exists()
    desk = open_desk(ctx, db, actor, create=True)
    if not existed:
        settings.set_shop_timezone(desk, timezone)
    if as_json:
        emit_json({"database": str(desk.db.path), "created": not existed})
    elif existed:
        typer.echo(f"{desk.db.path} is ready (it already existed; nothing was overwritten)")
    else:
        typer.echo(f"created {desk.db.path}")


def demo(
    ctx: typer.Context,
    tickets: Annotated[int, typer.Option(min=10, max=5_000_000, help="How many tickets.")] = 400,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same desk.")] = 7,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fill a new database with a realistic demo MSP (refuses one that holds tickets)."""
    from dispatch_tui import demo as demo_data

    desk = open_desk(ctx, db, actor, create=True)
    summary = demo_data.generate(desk, tickets=tickets, seed=seed)
    if as_json:
        emit_json({"database": str(desk.db.path), "demo": summary})
    else:
        typer.echo(
            f"demo desk in {desk.db.path}: {summary.tickets} tickets ({summary.new_tickets} new), "
            f"{summary.clients} clients, {summary.technicians} technicians"
        )
