"""``dispatch-tui ticket triage`` and ``ticket assign``: the triage and dispatch verbs.

They belong to the ``ticket`` sub-app (cli/tickets.py calls ``register``) but live
here so each file keeps one job. A refused assignment exits 3 with the number of
tickets waiting; a stale ``--expect-version`` exits 4 naming who changed the ticket.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch_tui.cli.common import (
    ActorOption,
    DbOption,
    JsonOption,
    emit_json,
    open_desk,
    parse_local_time,
)
from dispatch_tui.services import dispatch, settings
from dispatch_tui.services import triage as triage_service

IdArgument = Annotated[int, typer.Argument(metavar="ID", help="Ticket number.")]
ExpectVersion = Annotated[
    int | None,
    typer.Option(
        "--expect-version",
        min=1,
        help="Refuse (exit 4) if the ticket is no longer at this version (see 'ticket show').",
    ),
]


def triage(
    ctx: typer.Context,
    ticket_id: IdArgument,
    ticket_type: Annotated[
        str | None, typer.Option("--type", help="incident or service_request.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="From the shop's category list.")] = None,
    subcategory: Annotated[str | None, typer.Option(help="A subcategory of the category.")] = None,
    impact: Annotated[str | None, typer.Option(help="low, medium or high.")] = None,
    urgency: Annotated[str | None, typer.Option(help="low, medium or high.")] = None,
    estimate: Annotated[
        float | None, typer.Option(help="Estimated effort in hours, e.g. 0.5.")
    ] = None,
    skill: Annotated[str | None, typer.Option(help="The skill the work needs, e.g. m365.")] = None,
    due: Annotated[
        str | None,
        typer.Option(
            help="Due date, shop-local 'YYYY-MM-DD HH:MM' (needed for service requests over 4 h)."
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="What you learned from the client.")] = None,
    summary: Annotated[str | None, typer.Option(help="A clearer one-line summary.")] = None,
    contact: Annotated[str | None, typer.Option(help="Contact name or e-mail.")] = None,
    expect_version: ExpectVersion = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Complete a new ticket and mark it triaged (refused, exit 2, while anything is missing)."""
    desk = open_desk(ctx, db, actor)
    given = {
        "ticket_type": ticket_type,
        "category": category,
        "subcategory": subcategory,
        "impact": impact,
        "urgency": urgency,
        "estimate_hours": estimate,
        "required_skill": skill,
        "summary": summary,
        "contact": contact,
    }
    fields = {name: value for name, value in given.items() if value is not None}
    if due is not None:
        fields["due_at"] = parse_local_time(due, settings.shop_timezone(desk), what="--due")
    ticket = triage_service.triage_ticket(
        desk, ticket_id, expect_version=expect_version, note=note, **fields
    )
    if as_json:
        emit_json({"ticket": ticket})
    else:
        typer.echo(
            f"ticket #{ticket.id} triaged: priority {ticket.priority} (version {ticket.version})"
        )


def assign(
    ctx: typer.Context,
    ticket_id: IdArgument,
    tech: Annotated[str, typer.Option(help="Technician name or id.")],
    expect_version: ExpectVersion = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assign a triaged ticket to a technician (refused, exit 3, while tickets wait for triage)."""
    desk = open_desk(ctx, db, actor)
    ticket = dispatch.assign_ticket(desk, ticket_id, tech, expect_version=expect_version)
    if as_json:
        emit_json({"ticket": ticket})
    else:
        typer.echo(
            f"ticket #{ticket.id} assigned, position {ticket.queue_position} in the "
            f"technician's queue (version {ticket.version})"
        )


def register(app: typer.Typer) -> None:
    app.command("triage")(triage)
    app.command("assign")(assign)
