"""Dispatch from the command line: suggestions, reassign/unassign, escalation, notes and
a technician's ordered queue.

``ticket suggest|reassign|unassign|escalate|escalated|note`` join the ``ticket`` sub-app and
``tech queue`` the ``tech`` sub-app (cli/main.py calls ``register``). Every change
goes through a service, which writes the audit event.
"""

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
)
from dispatch_tui.cli.triage import ExpectVersion, IdArgument
from dispatch_tui.services import dispatch, followup, queues, settings, suggestions
from dispatch_tui.textsafe import plain

ReasonOption = Annotated[str, typer.Option(help="Why; kept in the audit log.")]


def suggest(
    ctx: typer.Context,
    ticket_id: IdArgument,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rank the technicians for a ticket, best first, each with its reasons."""
    desk = open_desk(ctx, db, actor)
    result = suggestions.suggest_for(desk, ticket_id)
    if as_json:
        emit_json(
            {
                "ticket_id": result.ticket_id,
                "client": result.client,
                "suggestions": [
                    {
                        "rank": rank,
                        "tech_id": s.tech_id,
                        "tech": s.name,
                        "score": s.score,
                        "available": s.available,
                        "reasons": list(s.reasons),
                    }
                    for rank, s in enumerate(result.suggestions, start=1)
                ],
            }
        )
        return
    typer.echo(f"ticket #{result.ticket_id} for {plain(result.client)}:")
    for rank, s in enumerate(result.suggestions, start=1):
        flag = "" if s.available else "  (cannot take work now)"
        typer.echo(f"{rank}. {plain(s.name)}  score {s.score:g}{flag}")
        typer.echo(f"   {'; '.join(s.reasons)}")


def reassign(
    ctx: typer.Context,
    ticket_id: IdArgument,
    tech: Annotated[str, typer.Option(help="Technician name or id.")],
    reason: ReasonOption,
    expect_version: ExpectVersion = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a ticket to another technician (refused, exit 3, while tickets wait for triage)."""
    desk = open_desk(ctx, db, actor)
    ticket = dispatch.reassign(desk, ticket_id, tech, reason=reason, expect_version=expect_version)
    if as_json:
        emit_json({"ticket": ticket})
    else:
        typer.echo(
            f"ticket #{ticket.id} reassigned, position {ticket.queue_position} in the "
            f"technician's queue (version {ticket.version})"
        )


def unassign(
    ctx: typer.Context,
    ticket_id: IdArgument,
    reason: ReasonOption,
    expect_version: ExpectVersion = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take a ticket back to the dispatch board (allowed while the gate is closed)."""
    desk = open_desk(ctx, db, actor)
    if not reason.strip():
        from dispatch_tui.errors import InvalidInput

        raise InvalidInput("unassigning needs a reason")
    ticket = dispatch.unassign_ticket(desk, ticket_id, reason=reason, expect_version=expect_version)
    if as_json:
        emit_json({"ticket": ticket})
    else:
        typer.echo(f"ticket #{ticket.id} is back on the dispatch board (version {ticket.version})")


def escalate(
    ctx: typer.Context,
    ticket_id: IdArgument,
    reason: ReasonOption,
    to: Annotated[
        str, typer.Option("--to", help="tier2, tier3 or manager (the service manager).")
    ] = "tier3",
    expect_version: ExpectVersion = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Escalate a ticket to a higher tier or the service manager; the reason is required."""
    desk = open_desk(ctx, db, actor)
    ticket = followup.escalate(desk, ticket_id, reason=reason, to=to, expect_version=expect_version)
    if as_json:
        emit_json({"ticket": ticket})
    else:
        target = followup.TARGET_NAMES[ticket.escalated_to or "tier3"]
        typer.echo(f"ticket #{ticket.id} escalated to {target} (version {ticket.version})")


def escalated(
    ctx: typer.Context,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open escalated tickets, most recently changed first: the service manager's list."""
    desk = open_desk(ctx, db, actor)
    rows = followup.escalated_tickets(desk)
    if as_json:
        emit_json({"tickets": rows})
        return
    tz = settings.shop_timezone(desk)
    emit_table(
        ["id", "to", "priority", "status", "tech", "updated", "client", "summary"],
        [
            [
                str(r.id),
                followup.TARGET_NAMES.get(r.escalated_to or "", r.escalated_to or "-"),
                r.priority or "-",
                r.status,
                r.assigned_tech or "-",
                local(r.updated_at, tz),
                r.client,
                r.summary,
            ]
            for r in rows
        ],
    )


def note(
    ctx: typer.Context,
    ticket_id: IdArgument,
    text: Annotated[str, typer.Option("--text", help="The note.")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="client (an update to or from the client), internal or resolution."
        ),
    ] = "internal",
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a note to a ticket; a client note counts as the last client update."""
    desk = open_desk(ctx, db, actor)
    added = followup.add_note(desk, ticket_id, kind=kind.strip().lower(), text=text)
    if as_json:
        emit_json({"note": added})
    else:
        typer.echo(f"{added.kind} note #{added.id} added to ticket #{ticket_id}")


def queue(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Technician name or id.")],
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """A technician's ready-to-engage queue, in the order to work it."""
    desk = open_desk(ctx, db, actor)
    found = queues.tech_queue(desk, name)
    if as_json:
        emit_json({"tech": found.tech, "tech_id": found.tech_id, "queue": found.rows})
        return
    if not found.rows:
        typer.echo(f"{plain(found.tech)} has nothing queued")
        return
    emit_table(
        ["#", "ticket", "priority", "status", "est h", "client", "summary"],
        [
            [
                str(r.position),
                str(r.id),
                (r.priority or "-") + (" ESC" if r.escalated else ""),
                r.status,
                "-" if r.estimate_hours is None else f"{r.estimate_hours:g}",
                r.client,
                r.summary,
            ]
            for r in found.rows
        ],
    )


def register(ticket_app: typer.Typer, tech_app: typer.Typer) -> None:
    ticket_app.command("suggest")(suggest)
    ticket_app.command("reassign")(reassign)
    ticket_app.command("unassign")(unassign)
    ticket_app.command("escalate")(escalate)
    ticket_app.command("escalated")(escalated)
    ticket_app.command("note")(note)
    tech_app.command("queue")(queue)
