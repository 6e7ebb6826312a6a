"""Importing tickets from a CSV file: header-mapped columns, bad rows reported by line.

Columns are matched by header name, in any order and case: ``client``, ``summary``
(both required), ``contact``, ``contact_email``, ``description``, ``channel``
(default phone, as for ``ticket add``), ``received_at`` (shop-local unless it names
its offset; default now) and ``source_ref``. The other columns of our own ticket
export are ignored quietly, so an exported file imports back; any other header is
reported. Each row is checked before anything is written, then good rows are
written in batches of short transactions. Re-importing a file adds nothing: each
row's ``source_ref`` (its own, or a hash of its cells) is checked first.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser
from sqlalchemy import func
from sqlmodel import Session, select

from dispatch_tui.errors import DispatchError, InvalidInput
from dispatch_tui.services import audit
from dispatch_tui.services.clients import ensure_client
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.exporter import TICKET_COLUMNS
from dispatch_tui.services.spreadsheet import unguard
from dispatch_tui.services.tickets import MAX_SUMMARY, parse_channel
from dispatch_tui.store.models import Channel, Client, Contact, Status, Ticket
from dispatch_tui.store.types import utcnow

IMPORTED_COLUMNS = (
    "client", "contact", "contact_email", "summary", "description", "channel", "received_at",
    "source_ref",
)  # fmt: skip
REQUIRED = ("client", "summary")
#: Rows written per transaction: short enough not to block other dispatchers.
BATCH = 200


@dataclass(frozen=True)
class CsvTicket:
    line: int
    client: str
    contact: str
    contact_email: str
    summary: str
    description: str
    channel: str
    received_at: datetime
    source_ref: str


@dataclass
class CsvSummary:
    imported: int = 0
    already: int = 0
    failed: int = 0
    #: (line number, reason) for every row not imported.
    errors: list[tuple[int, str]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    encoding: str = "utf-8"

    def line(self) -> str:
        return f"imported {self.imported}, already imported {self.already}, failed {self.failed}"

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "already_imported": self.already,
            "failed": self.failed,
            "errors": [{"line": n, "reason": r} for n, r in self.errors],
            "unknown_columns": self.unknown_columns,
            "encoding": self.encoding,
        }


def column_key(header: str) -> str:
    return "_".join(header.strip().lower().replace("-", " ").split())


def sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without Excel's BOM), else windows-1252, which Excel also writes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(1 << 16):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def read_rows(
    path: Path, tz: ZoneInfo, summary: CsvSummary, *, now: datetime
) -> Iterator[CsvTicket]:
    """Checked rows, one at a time; bad ones go to ``summary.errors`` with their line."""
    summary.encoding = sniff_encoding(path)
    with path.open(encoding=summary.encoding, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise InvalidInput(f"{path} is empty") from None
        keys = [column_key(h) for h in header]
        missing = [c for c in REQUIRED if c not in keys]
        if missing:
            raise InvalidInput(
                f"{path} has no {' or '.join(repr(m) for m in missing)} column "
                f"(its header is: {', '.join(header)})"
            )
        summary.unknown_columns = [
            h for h, k in zip(header, keys, strict=True)
            if k and k not in IMPORTED_COLUMNS and k not in TICKET_COLUMNS
        ]  # fmt: skip
        index = {k: i for i, k in reversed(list(enumerate(keys)))}
        line = reader.line_num
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The reader cannot resync after a broken quote: stop, keep what came before.
                summary.failed += 1
                summary.errors.append((start, f"unreadable CSV ({exc}); the rest was not read"))
                return
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines spreadsheets leave at the end
            try:
                yield _check(cells, index, len(header), start, tz, now)
            except InvalidInput as exc:
                summary.failed += 1
                summary.errors.append((start, str(exc)))


def _check(
    cells: list[str], index: dict[str, int], width: int, line: int, tz: ZoneInfo, now: datetime
) -> CsvTicket:
    if len(cells) > width:
        raise InvalidInput(f"{len(cells)} cells but the header names {width}")

    def cell(name: str) -> str:
        i = index.get(name)
        return unguard(cells[i]) if i is not None and i < len(cells) else ""

    client, summary = cell("client").strip(), cell("summary").strip()
    if not client:
        raise InvalidInput("client is empty")
    if not summary:
        raise InvalidInput("summary is empty")
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(f"summary is {len(summary)} characters; keep it under {MAX_SUMMARY}")
    channel = parse_channel(cell("channel") or Channel.PHONE.value)
    raw_time = cell("received_at").strip()
    received = _parse_time(raw_time, tz) if raw_time else now
    if received > now:
        raise InvalidInput(f"received_at {raw_time!r} lies in the future")
    contact, email = cell("contact").strip(), cell("contact_email").strip()
    description = cell("description")
    source_ref = cell("source_ref").strip() or _row_hash(
        client, contact, email, summary, description, channel, raw_time
    )
    return CsvTicket(
        line, client, contact, email, summary, description, channel, received, source_ref
    )


def _parse_time(value: str, tz: ZoneInfo) -> datetime:
    """Shop-local unless the cell names its own offset (as our export does)."""
    try:
        parsed = dateparser.parse(value)
    except (ValueError, OverflowError):
        raise InvalidInput(f"received_at {value!r} is not a date and time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _row_hash(*cells: str) -> str:
    return "csv:sha256:" + hashlib.sha256("\x00".join(cells).encode()).hexdigest()


def import_csv(desk: Desk, path: Path, tz: ZoneInfo) -> CsvSummary:
    summary = CsvSummary()
    batch: list[CsvTicket] = []
    now = utcnow()
    for row in read_rows(path, tz, summary, now=now):
        batch.append(row)
        if len(batch) >= BATCH:
            _write(desk, batch, summary, now)
            batch = []
    if batch:
        _write(desk, batch, summary, now)
    return summary


def _write(desk: Desk, rows: list[CsvTicket], summary: CsvSummary, now: datetime) -> None:
    with desk.db.write() as session:
        for row in rows:
            if session.exec(select(Ticket.id).where(Ticket.source_ref == row.source_ref)).first():
                summary.already += 1
                continue
            try:
                _insert(session, desk.actor, row, now)
            except DispatchError as exc:
                summary.failed += 1
                summary.errors.append((row.line, str(exc)))
                continue
            summary.imported += 1


def _contact(session: Session, actor: str, client: Client, name: str, email: str) -> Contact | None:
    if not name and not email:
        return None
    query = select(Contact).where(Contact.client_id == client.id)
    if email:
        query = query.where(func.lower(Contact.email) == email.lower())
    else:
        query = query.where(func.lower(Contact.name) == name.lower())
    contact = session.exec(query).first()
    if contact is None:
        contact = Contact(client_id=client.id or 0, name=name or email, email=email)
        session.add(contact)
        session.flush()
        audit.record(
            session, actor, "contact.create", "contact", contact.id,
            f"{contact.name} at {client.name} (from CSV)",
        )  # fmt: skip
    return contact


def _insert(session: Session, actor: str, row: CsvTicket, now: datetime) -> None:
    client = ensure_client(session, actor, row.client)
    contact = _contact(session, actor, client, row.contact, row.contact_email)
    ticket = Ticket(
        client_id=client.id or 0,
        contact_id=contact.id if contact else None,
        channel=row.channel,
        summary=row.summary,
        description=row.description,
        status=Status.NEW.value,
        source_ref=row.source_ref,
        created_at=row.received_at,
        updated_at=now,
        updated_by=actor,
    )
    session.add(ticket)
    session.flush()
    audit.record(
        session, actor, "ticket.create", "ticket", ticket.id,
        f"{row.channel} from {client.name} (CSV line {row.line})",
        after=audit.snapshot(
            ticket, ("client_id", "contact_id", "channel", "summary", "status", "source_ref")
        ),
    )  # fmt: skip
