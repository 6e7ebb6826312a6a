"""``dispatch-tui schedule ...``: book, list, move, resize and cancel service calls."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

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
from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules.schedule import describe_conflicts
from dispatch_tui.rules.utilization import IsoWeek
from dispatch_tui.services import schedule, settings
from dispatch_tui.services.schedule import Booking, CallRow

app = typer.Typer(help="Book and list technicians' service calls.", no_args_is_help=True)

#: Recorded when --allow-conflict is given without --reason, so the override is never blank.
DEFAULT_OVERRIDE_REASON = "booked over a conflict from the command line"

AllowOption = Annotated[
    bool,
    typer.Option(
        "--allow-conflict", help="Book even if it clashes; the override is recorded with --reason."
    ),
]
ReasonOption = Annotated[
    str | None, typer.Option(help="Why the clash is acceptable (with --allow-conflict).")
]


def _reason(allow_conflict: bool, reason: str | None) -> str | None:
    if reason and not allow_conflict:
        raise InvalidInput("--reason only applies with --allow-conflict")
    return (reason or DEFAULT_OVERRIDE_REASON) if allow_conflict else None


def _when(call: CallRow, zone: ZoneInfo) -> str:
    start, end = call.starts_at.astimezone(zone), call.ends_at.astimezone(zone)
    until = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}-{until}"


def _report(verb: str, booking: Booking, zone: ZoneInfo, as_json: bool) -> None:
    call = booking.call
    if as_json:
        emit_json({"call": call, "overridden": [c.message for c in booking.overridden]})
        return
    kind = "firm" if call.firm else "tentative"
    typer.echo(
        f"call #{call.id} {verb}: ticket #{call.ticket_id} for {call.tech} "
        f"{_when(call, zone)} ({kind})"
    )
    if booking.overridden:
        typer.echo(
            f"booked over: {describe_conflicts(booking.overridden)} "
            f"(reason: {call.override_reason})"
        )


def _range(zone: ZoneInfo, day: str | None, week: str | None) -> tuple[datetime, datetime, str]:
    if day and week:
        raise InvalidInput("give --day or --week, not both")
    if day:
        try:
            first = date.fromisoformat(day)
        except ValueError:
            raise InvalidInput(f"--day must look like YYYY-MM-DD, not {day!r}") from None
        last, label = first, f"{first:%a %Y-%m-%d}"
    else:
        try:
            iso = IsoWeek.parse(week) if week else IsoWeek.containing(datetime.now(zone).date())
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        first, last, label = iso.monday, iso.sunday, str(iso)
    start = datetime.combine(first, time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    return start, end, label


@app.command("add")
def add(
    ctx: typer.Context,
    ticket: Annotated[int, typer.Argument(help="Ticket number.")],
    tech: Annotated[str, typer.Option(help="Technician name or id.")],
    start: Annotated[str, typer.Option(help="Shop-local start, 'YYYY-MM-DD HH:MM'.")],
    hours: Annotated[float, typer.Option(help="Length in hours, e.g. 1.5.")],
    tentative: Annotated[bool, typer.Option("--tentative", help="Pencil it in, not firm.")] = False,
    allow_conflict: AllowOption = False,
    reason: ReasonOption = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Book a service call; a clash exits 5 naming it, unless --allow-conflict."""
    desk = open_desk(ctx, db, actor)
    zone = settings.shop_timezone(desk)
    booking = schedule.book_call(
        desk,
        ticket,
        tech,
        parse_local_time(start, zone, what="--start"),
        hours,
        firm=not tentative,
        allow_conflict=allow_conflict,
        override_reason=_reason(allow_conflict, reason),
    )
    _report("booked", booking, zone, as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    tech: Annotated[str | None, typer.Option(help="Only this technician.")] = None,
    day: Annotated[str | None, typer.Option(help="One shop-local day, YYYY-MM-DD.")] = None,
    week: Annotated[
        str | None, typer.Option(help="An ISO week, YYYY-Www (default: this week).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many calls.", min=1)] = 500,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the calls of a day or a week, earliest first."""
    desk = open_desk(ctx, db, actor)
    zone = settings.shop_timezone(desk)
    start, end, label = _range(zone, day, week)
    calls = schedule.list_calls(desk, start, end, tech=tech, limit=limit)
    if as_json:
        emit_json({"range": label, "from": start, "to": end, "timezone": str(zone), "calls": calls})
        return
    emit_table(
        ["id", "when", "hours", "tech", "ticket", "client", "summary", "firm", "override"],
        [
            [
                str(c.id),
                _when(c, zone),
                f"{c.hours:g}",
                c.tech,
                f"#{c.ticket_id}",
                c.client,
                c.summary,
                "yes" if c.firm else "tentative",
                c.override_reason or "",
            ]
            for c in calls
        ],
    )


@app.command("move")
def move(
    ctx: typer.Context,
    call: Annotated[int, typer.Argument(help="Service call id.")],
    start: Annotated[str | None, typer.Option(help="New shop-local start.")] = None,
    tech: Annotated[str | None, typer.Option(help="Hand the call to this technician.")] = None,
    allow_conflict: AllowOption = False,
    reason: ReasonOption = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a call to a new start and/or technician, keeping its length."""
    desk = open_desk(ctx, db, actor)
    zone = settings.shop_timezone(desk)
    booking = schedule.move_call(
        desk,
        call,
        start=parse_local_time(start, zone, what="--start") if start else None,
        tech=tech,
        allow_conflict=allow_conflict,
        override_reason=_reason(allow_conflict, reason),
    )
    _report("moved", booking, zone, as_json)


@app.command("resize")
def resize(
    ctx: typer.Context,
    call: Annotated[int, typer.Argument(help="Service call id.")],
    hours: Annotated[float, typer.Option(help="New length in hours.")],
    allow_conflict: AllowOption = False,
    reason: ReasonOption = None,
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lengthen or shorten a call, keeping its start."""
    desk = open_desk(ctx, db, actor)
    zone = settings.shop_timezone(desk)
    booking = schedule.resize_call(
        desk,
        call,
        hours,
        allow_conflict=allow_conflict,
        override_reason=_reason(allow_conflict, reason),
    )
    _report("resized", booking, zone, as_json)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    call: Annotated[int, typer.Argument(help="Service call id.")],
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    db: DbOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a call (the audit log keeps what it was)."""
    desk = open_desk(ctx, db, actor)
    zone = settings.shop_timezone(desk)
    row = schedule.cancel_call(desk, call, reason=reason)
    if as_json:
        emit_json({"cancelled": row})
    else:
        when = local(row.starts_at, zone)
        typer.echo(f"call #{row.id} cancelled: ticket #{row.ticket_id} for {row.tech} {when}")
