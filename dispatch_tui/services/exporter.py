"""Exporting tickets, technicians and time entries as rows, for spreadsheets and accounting.

Rows stream in bounded batches, each read in its own short transaction: a long
read would hold SQLite's shared lock and stop every other dispatcher from saving
for the length of the export. Batches are keyed by id, so the cost per batch does
not grow with the table. (A row changed during the export shows its newer state.)

Times are shop-local ISO 8601 with their UTC offset, so a file round-trips exactly
even across a daylight-saving change.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import aliased
from sqlmodel import col, select

from dispatch_tui.services.desk import Desk
from dispatch_tui.services.spreadsheet import guard
from dispatch_tui.store.models import Client, Contact, Technician, Ticket, TimeEntry

BATCH = 500

TICKET_COLUMNS = (
    "id", "client", "contact", "contact_email", "channel", "summary", "description", "status",
    "ticket_type", "category", "subcategory", "impact", "urgency", "priority", "estimate_hours",
    "required_skill", "due_at", "assigned_tech", "escalated", "escalated_to", "received_at",
    "triaged_at", "first_response_at", "resolved_at", "closed_at", "updated_at", "updated_by",
    "possible_duplicate_of", "source_ref",
)  # fmt: skip
TECHNICIAN_COLUMNS = (
    "id", "name", "tier", "skills", "email", "active", "work_days", "work_start", "work_end",
)  # fmt: skip
TIME_COLUMNS = (
    "id", "ticket_id", "client", "ticket_summary", "technician", "started_at", "hours",
    "billable", "note", "approved_at", "approved_by",
)  # fmt: skip

Row = dict[str, Any]


def _time(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat() if value else None


def _batches(fetch: Callable[[int], list[Any]]) -> Iterator[Any]:
    """Rows from ``fetch(after_id)`` until it returns nothing; each row's [0] is its id."""
    last = 0
    while True:
        rows = fetch(last)
        if not rows:
            return
        yield from rows
        last = rows[-1][0].id


def ticket_rows(desk: Desk, tz: ZoneInfo, *, statuses: tuple[str, ...] = ()) -> Iterator[Row]:
    tech = aliased(Technician)

    def fetch(after: int) -> list[Any]:
        query = (
            select(Ticket, Client.name, Contact.name, Contact.email, tech.name)
            .join(Client, Client.id == Ticket.client_id)
            .join(Contact, Contact.id == Ticket.contact_id, isouter=True)
            .join(tech, tech.id == Ticket.assigned_tech_id, isouter=True)
            .where(col(Ticket.id) > after)
            .order_by(col(Ticket.id))
            .limit(BATCH)
        )
        if statuses:
            query = query.where(col(Ticket.status).in_(statuses))
        with desk.db.read() as session:
            return list(session.exec(query).all())

    for t, client, contact, email, tech_name in _batches(fetch):
        yield {
            "id": t.id, "client": client, "contact": contact, "contact_email": email or None,
            "channel": t.channel, "summary": t.summary, "description": t.description,
            "status": t.status, "ticket_type": t.ticket_type, "category": t.category,
            "subcategory": t.subcategory, "impact": t.impact, "urgency": t.urgency,
            "priority": t.priority, "estimate_hours": t.estimate_hours,
            "required_skill": t.required_skill, "due_at": _time(t.due_at, tz),
            "assigned_tech": tech_name, "escalated": t.escalated, "escalated_to": t.escalated_to,
            "received_at": _time(t.created_at, tz), "triaged_at": _time(t.triaged_at, tz),
            "first_response_at": _time(t.first_response_at, tz),
            "resolved_at": _time(t.resolved_at, tz), "closed_at": _time(t.closed_at, tz),
            "updated_at": _time(t.updated_at, tz), "updated_by": t.updated_by,
            "possible_duplicate_of": t.possible_duplicate_of, "source_ref": t.source_ref,
        }  # fmt: skip


def technician_rows(desk: Desk, tz: ZoneInfo) -> Iterator[Row]:
    def fetch(after: int) -> list[Any]:
        query = (
            select(Technician)
            .where(col(Technician.id) > after)
            .order_by(col(Technician.id))
            .limit(BATCH)
        )
        with desk.db.read() as session:
            return [(t,) for t in session.exec(query).all()]

    for (t,) in _batches(fetch):
        yield {name: getattr(t, name) for name in TECHNICIAN_COLUMNS}


def time_rows(desk: Desk, tz: ZoneInfo) -> Iterator[Row]:
    def fetch(after: int) -> list[Any]:
        query = (
            select(TimeEntry, Ticket.summary, Client.name, Technician.name)
            .join(Ticket, Ticket.id == TimeEntry.ticket_id)
            .join(Client, Client.id == Ticket.client_id)
            .join(Technician, Technician.id == TimeEntry.tech_id)
            .where(col(TimeEntry.id) > after)
            .order_by(col(TimeEntry.id))
            .limit(BATCH)
        )
        with desk.db.read() as session:
            return list(session.exec(query).all())

    for e, summary, client, tech_name in _batches(fetch):
        yield {
            "id": e.id, "ticket_id": e.ticket_id, "client": client, "ticket_summary": summary,
            "technician": tech_name, "started_at": _time(e.started_at, tz), "hours": e.hours,
            "billable": e.billable, "note": e.note, "approved_at": _time(e.approved_at, tz),
            "approved_by": e.approved_by,
        }  # fmt: skip


# -- writers --------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return guard(value)
    return str(value)


def write_csv(rows: Iterator[Row], columns: tuple[str, ...], out: IO[str]) -> int:
    """Write a header and every row; returns how many rows were written."""
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as spreadsheets expect
    writer.writerow(columns)
    written = 0
    for row in rows:
        writer.writerow([_cell(row[name]) for name in columns])
        written += 1
    return written


def write_json(rows: Iterator[Row], key: str, out: IO[str]) -> int:
    """One JSON object ``{key: [...], "count": n}``, written row by row."""
    out.write(f'{{"{key}": [')
    written = 0
    for row in rows:
        out.write(("," if written else "") + "\n" + json.dumps(row, ensure_ascii=False))
        written += 1
    out.write(f'\n], "count": {written}}}\n')
    return written
