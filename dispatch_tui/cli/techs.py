"""``dispatch-tui tech ...``: the technicians the desk dispatches to."""

from __future__ import annotations

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
from dispatch_tui.services import technicians

app = typer.Typer(help="Add and list technicians.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The technician's name, unique on the desk.")],
    tier: Annotated[int, typer.Option(help="1, 2 or 3 (3 is the most senior).")] = 1,
    skills: Annotated[str, typer.Option(help="Comma-separated skills, e.g. network,m365.")] = "",
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a technician (working Monday to Friday 08:00-17:00 until told otherwise)."""
    desk = open_desk(ctx, db, actor)
    tech = technicians.add_technician(desk, name=name, tier=tier, skills=skills, email=email)
    if as_json:
        emit_json({"technician": tech})
    else:
        typer.echo(f"technician #{tech.id} {tech.name} added (tier {tech.tier})")


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include inactive technicians.")] = False,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """List technicians with tier, skills and working hours."""
    desk = open_desk(ctx, db, actor)
    techs = technicians.list_technicians(desk, include_inactive=all_)
    if as_json:
        emit_json({"technicians": techs})
        return
    emit_table(
        ["id", "name", "tier", "skills", "hours", "active"],
        [
            [
                str(t.id),
                t.name,
                str(t.tier),
                t.skills or "-",
                f"{t.work_days} {t.work_start}-{t.work_end}",
                "yes" if t.active else "no",
            ]
            for t in techs
        ],
    )
