"""``dispatch-tui ticket ...``: record, list and show tickets."""

from __future__ import annotations

from typing import Annotated

import typer

from dispatch_tui.cli import triage as triage_commands
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
from dispatch_tui.services import settings, tickets
from dispatch_tui.store.models import Channel

app = typer.Typer(help="Record, triage, assign, list and show tickets.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    client: Annotated[str, typer.Option(help="Client name (created if new).")],
    summary: Annotated[str, typer.Option(help="One line saying what the client needs.")],
    contact: Annotated[str | None, typer.Option(help="Contact name or e-mail.")] = None,
    channel: Annotated[
        str, typer.Option(help=f"How it arrived: {', '.join(c.value for c in Channel)}.")
    ] = Channel.PHONE.value,
    description: Annotated[str, typer.Option(help="What the client said.")] = "",
    received_at: Annotated[
        str | None,
        typer.Option(
            "--received-at", help="When it arrived, shop-local 'YYYY-MM-DD HH:MM' (default now)."
        ),
    ] = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a new request; it waits as 'new' until triaged."""
    desk = open_desk(ctx, db, actor)
    tz = settings.shop_timezone(desk)
    received = parse_local_time(received_at, tz, what="--received-at") if received_at else None
    ticket = tickets.add_ticket(
        desk,
        client=client,
        summary=summary,
        contact=contact,
        channel=channel,
        description=description,
        received_at=received,
    )
    if as_json:
        emit_json({"ticket": ticket})
    else:
        typer.echo(f"ticket #{ticket.id} recorded as new")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only tickets in this status.")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10000, help="At most this many, newest first.")
    ] = 100,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """List tickets, newest first."""
    desk = open_desk(ctx, db, actor)
    rows = tickets.list_tickets(desk, status=status, limit=limit)
    if as_json:
        emit_json({"tickets": rows})
        return
    tz = settings.shop_timezone(desk)
    emit_table(
        ["id", "status", "priority", "client", "tech", "received", "summary"],
        [
            [
                str(r.id),
                r.status,
                r.priority or "-",
                r.client,
                r.assigned_tech or "-",
                local(r.created_at, tz),
                r.summary,
            ]
            for r in rows
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(metavar="ID", help="Ticket number.")],
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one ticket with its notes, its version and its technician."""
    desk = open_desk(ctx, db, actor)
    detail = tickets.get_ticket(desk, ticket_id)
    if as_json:
        emit_json(
            {
                "ticket": detail.ticket,
                "client": detail.client,
                "contact": detail.contact,
                "assigned_tech": detail.assigned_tech,
                "notes": detail.notes,
            }
        )
        return
    from dispatch_tui.textsafe import plain

    t = detail.ticket
    tz = settings.shop_timezone(desk)
    fields = [
        ("ticket", f"#{t.id}  (version {t.version})"),
        ("summary", t.summary),
        ("client", detail.client),
        ("contact", detail.contact or "-"),
        ("channel", t.channel),
        ("status", t.status),
        ("type", t.ticket_type or "-"),
        ("category", " / ".join(x for x in (t.category, t.subcategory) if x) or "-"),
        ("impact/urgency", f"{t.impact or '-'} / {t.urgency or '-'}"),
        ("priority", t.priority or "-"),
        ("estimate", f"{t.estimate_hours:g} h" if t.estimate_hours is not None else "-"),
        ("skill", t.required_skill or "-"),
        ("due", local(t.due_at, tz)),
        ("technician", detail.assigned_tech or "-"),
        ("escalated", f"yes ({t.escalated_to})" if t.escalated else "no"),
        ("received", local(t.created_at, tz)),
        ("triaged", local(t.triaged_at, tz)),
        ("updated", f"{local(t.updated_at, tz)} by {t.updated_by or '-'}"),
    ]
    for label, value in fields:
        typer.echo(f"{label:>15}  {plain(value)}")
    if t.description:
        typer.echo("\n" + plain(t.description))
    for note in detail.notes:
        typer.echo(f"\n[{note.kind}] {local(note.created_at, tz)} {plain(note.author)}")
        typer.echo(plain(note.body))


# The triage and assign verbs live in cli/triage.py but are 'ticket' sub-commands.
triage_commands.register(app)
