"""``dispatch-tui check``: the desk health checks, for a person or a cron job.

Exits 0 when every check is clean and 6 (EXIT_CHECKS) when any finds something, so a
monitoring system can alert on the exit code alone.
"""

from __future__ import annotations

import typer

from dispatch_tui.cli.common import (
    ActorOption,
    DbOption,
    JsonOption,
    emit_json,
    emit_table,
    open_desk,
)
from dispatch_tui.errors import EXIT_CHECKS
from dispatch_tui.services import health


def check(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run every desk health check; exit 6 when any finds tickets (or technicians)."""
    desk = open_desk(ctx, db, actor)
    results = health.run_checks(desk)
    failing = [r for r in results if not r.clean]
    if as_json:
        emit_json(
            {
                "clean": not failing,
                "checks": [
                    {
                        "id": r.id,
                        "title": r.title,
                        "count": r.count,
                        "ticket_ids": list(r.ticket_ids),
                        "technicians": list(r.technicians),
                        "detail": r.detail,
                    }
                    for r in results
                ],
            }
        )
    else:
        emit_table(
            ["check", "count", "title", "detail"],
            [[r.id, str(r.count), r.title, r.detail] for r in results],
        )
        typer.echo(f"{len(failing)} of {len(results)} checks found problems")
    if failing:
        raise typer.Exit(EXIT_CHECKS)
