"""Importing e-mail: each message becomes a ``new`` ticket, or a note on the ticket it answers.

One write transaction per message, so one bad message costs only itself. Re-importing
never duplicates: a message's Message-ID (or content hash) is stored as the ticket's
or the note's ``source_ref`` and checked first. Every change writes an audit event.

``import_mail`` reads a whole source once; ``watch_imports`` keeps polling a folder
or Maildir and yields each result as it happens, for the CLI's ``--watch`` and for
a TUI background worker alike (stop it by setting the ``threading.Event``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlmodel import Session, col, select

from dispatch_tui.errors import DispatchError
from dispatch_tui.mail import MailItem, MailParseError, ParsedMessage, parse_message
from dispatch_tui.mail.sources import SourceKind, detect_kind, iter_items
from dispatch_tui.mail.subjects import similar, summary_line, ticket_tag
from dispatch_tui.mail.watch import DEFAULT_SETTLE_S, MailWatcher
from dispatch_tui.rules.replies import reply_opens_new_ticket, status_after_reply
from dispatch_tui.services import audit
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.senders import resolve_sender, sender_client_id
from dispatch_tui.services.tickets import MAX_SUMMARY
from dispatch_tui.store import DatabaseLocked, StoreError
from dispatch_tui.store.models import Channel, Client, Note, NoteKind, Status, Ticket
from dispatch_tui.store.types import utcnow

#: Two tickets from one contact with similar subjects this close together may be one request.
DUPLICATE_WINDOW = timedelta(days=1)
#: How many of the contact's recent tickets the duplicate check compares at most.
_DUPLICATE_CANDIDATES = 50
DEFAULT_INTERVAL_S = 5.0


class Outcome(StrEnum):
    IMPORTED = "imported"
    THREADED = "threaded"
    ALREADY = "already imported"
    FAILED = "failed"
    #: The database was locked; the watcher offers the message again next poll.
    DEFERRED = "deferred"


@dataclass(frozen=True)
class ImportResult:
    label: str
    outcome: Outcome
    ticket_id: int | None = None
    #: Why it failed, or what happened besides (reopened, follow-up of a closed ticket).
    detail: str = ""
    possible_duplicate_of: int | None = None

    def line(self) -> str:
        """One line for a log or a terminal (client text is the caller's to neutralise)."""
        ticket = f" #{self.ticket_id}" if self.ticket_id else ""
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.outcome.value}{ticket}: {self.label}{extra}"


@dataclass
class ImportSummary:
    imported: int = 0
    threaded: int = 0
    already: int = 0
    failed: int = 0
    #: New tickets flagged as possible duplicates (also counted in ``imported``).
    flagged: int = 0
    failures: list[ImportResult] = field(default_factory=list)

    def add(self, result: ImportResult) -> None:
        if result.outcome is Outcome.IMPORTED:
            self.imported += 1
            self.flagged += result.possible_duplicate_of is not None
        elif result.outcome is Outcome.THREADED:
            self.threaded += 1
        elif result.outcome is Outcome.ALREADY:
            self.already += 1
        elif result.outcome is Outcome.FAILED:
            self.failed += 1
            self.failures.append(result)

    def line(self) -> str:
        return (
            f"imported {self.imported}, threaded {self.threaded}, "
            f"already imported {self.already}, failed {self.failed}"
            f" ({self.flagged} flagged as possible duplicates)"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "threaded": self.threaded,
            "already_imported": self.already,
            "failed": self.failed,
            "possible_duplicates": self.flagged,
            "failures": [{"source": f.label, "reason": f.detail} for f in self.failures],
        }


# -- reading sources ----------------------------------------------------------------


def import_mail(
    desk: Desk, path: Path, *, on_result: Callable[[ImportResult], None] | None = None
) -> ImportSummary:
    """Import every message in an .eml file, a folder of them, an mbox or a Maildir."""
    kind = detect_kind(path)
    if kind is SourceKind.CSV:
        raise DispatchError(f"{path} is a CSV file; use services.csv_import")
    summary = ImportSummary()
    for item in iter_items(path, kind):
        result = import_item(desk, item)
        summary.add(result)
        if on_result is not None:
            on_result(result)
    return summary


def watch_imports(
    desk: Desk,
    path: Path,
    *,
    stop: threading.Event,
    interval: float = DEFAULT_INTERVAL_S,
    settle: float = DEFAULT_SETTLE_S,
) -> Iterator[ImportResult]:
    """Import what is in ``path`` now, then whatever arrives, until ``stop`` is set.

    A generator, so a TUI worker can ``post_message`` each result; ``stop.set()``
    from any thread ends it within one message (the wait between polls wakes at once).
    """
    watcher = MailWatcher(path, settle=settle)
    while not stop.is_set():
        for item in watcher.poll():
            if stop.is_set():
                watcher.forget(item)
                continue
            try:
                result = import_item(desk, item)
            except DatabaseLocked as exc:
                # Another dispatcher held the file too long: try this message again later.
                watcher.forget(item)
                result = ImportResult(item.label, Outcome.DEFERRED, detail=str(exc))
            yield result
        stop.wait(interval)


def import_item(desk: Desk, item: MailItem) -> ImportResult:
    """Read, parse and import one message; failures come back as a FAILED result."""
    try:
        message = parse_message(item.read())
    except MailParseError as exc:
        return ImportResult(item.label, Outcome.FAILED, detail=str(exc))
    except (OSError, KeyError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return ImportResult(item.label, Outcome.FAILED, detail=f"cannot be read ({reason})")
    try:
        return import_message(desk, message, label=item.label)
    except (StoreError, KeyboardInterrupt):
        raise  # the database itself is the problem: stop, do not fail every message
    except Exception as exc:  # noqa: BLE001 - one odd message must not stop the run
        return ImportResult(
            item.label, Outcome.FAILED, detail=f"not imported ({type(exc).__name__}: {exc})"
        )


# -- one message ----------------------------------------------------------------------


def import_message(desk: Desk, message: ParsedMessage, *, label: str = "") -> ImportResult:
    """Turn one parsed message into a ticket or a threaded note, in one transaction."""
    now = utcnow()
    # A plain read first: re-importing a mailbox then takes no write lock and no
    # fsync per message, and other dispatchers' saves are not queued behind it.
    with desk.db.read() as session:
        known = _already_imported(session, message.source_ref)
    if known is not None:
        return ImportResult(label, Outcome.ALREADY, ticket_id=known)
    with desk.db.write() as session:
        known = _already_imported(session, message.source_ref)  # it may have arrived since
        if known is not None:
            return ImportResult(label, Outcome.ALREADY, ticket_id=known)
        target = _thread_target(session, message)
        if target is not None and not reply_opens_new_ticket(target.status):
            detail = _thread(session, desk.actor, target, message, now)
            return ImportResult(label, Outcome.THREADED, ticket_id=target.id, detail=detail)
        ticket = _new_ticket(session, desk.actor, message, now, follow_up_of=target)
        detail = f"follow-up of closed ticket #{target.id}" if target is not None else ""
        return ImportResult(
            label,
            Outcome.IMPORTED,
            ticket_id=ticket.id,
            detail=detail,
            possible_duplicate_of=ticket.possible_duplicate_of,
        )


def _already_imported(session: Session, ref: str) -> int | None:
    ticket_id = session.exec(select(Ticket.id).where(Ticket.source_ref == ref)).first()
    if ticket_id is not None:
        return ticket_id
    return session.exec(select(Note.ticket_id).where(Note.source_ref == ref)).first()


def _thread_target(session: Session, message: ParsedMessage) -> Ticket | None:
    """The ticket a reply belongs to: its ``[#N]`` tag, else the message it answers."""
    tag = ticket_tag(message.subject)
    if tag is not None:
        ticket = session.get(Ticket, tag)
        if ticket is not None:
            return ticket
    for ref in message.replies_to[:20]:
        ticket = session.exec(select(Ticket).where(Ticket.source_ref == ref)).first()
        if ticket is None:
            note_ticket = session.exec(select(Note.ticket_id).where(Note.source_ref == ref)).first()
            ticket = session.get(Ticket, note_ticket) if note_ticket is not None else None
        if ticket is not None:
            return ticket
    return None


def _received_at(message: ParsedMessage, now: datetime) -> tuple[datetime, str | None]:
    if message.date is None:
        return now, f"{message.date_problem}; received-at set to the import time"
    if message.date > now + timedelta(minutes=5):
        # The sender's clock is wrong; a request cannot arrive in the future.
        return now, f"its Date {message.date.isoformat()} lies in the future; used the import time"
    return min(message.date, now), None


def _sender_label(message: ParsedMessage) -> str:
    if message.from_email and message.from_name != message.from_email:
        return f"{message.from_name} <{message.from_email}>"
    return message.from_name or message.from_email or "unknown sender"


def _attachment_lines(message: ParsedMessage) -> list[str]:
    if not message.attachments:
        return []
    lines = ["Attachments (not stored; ask the sender or open the original mail):"]
    lines += [f"- {a.name} ({_size(a.size)}, {a.content_type})" for a in message.attachments]
    return lines


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _add_note(
    session: Session,
    actor: str,
    ticket_id: int,
    kind: NoteKind,
    body: str,
    *,
    author: str,
    at: datetime,
    source_ref: str | None = None,
) -> Note:
    note = Note(
        ticket_id=ticket_id,
        kind=kind.value,
        body=body,
        author=author,
        created_at=at,
        source_ref=source_ref,
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        actor,
        "note.create",
        "note",
        note.id,
        f"{kind.value} note on ticket #{ticket_id}",
        after={"ticket_id": ticket_id, "kind": kind.value, "source_ref": source_ref},
    )
    return note


def _thread(
    session: Session, actor: str, ticket: Ticket, message: ParsedMessage, now: datetime
) -> str:
    received, date_problem = _received_at(message, now)
    ticket_id = ticket.id or 0
    body = message.body or message.subject
    _add_note(
        session,
        actor,
        ticket_id,
        NoteKind.CLIENT,
        body,
        author=_sender_label(message),
        at=received,
        source_ref=message.source_ref,
    )
    facts = _attachment_lines(message)
    if date_problem:
        facts.append(f"The reply's {date_problem}.")
    if sender_client_id(session, message.from_email) != ticket.client_id:
        client = session.get(Client, ticket.client_id)
        facts.append(
            f"The reply came from {_sender_label(message)}, who is not a known contact of "
            f"{client.name if client else 'this client'}: check it before acting on it."
        )
    if facts:
        _add_note(
            session, actor, ticket_id, NoteKind.INTERNAL, "\n".join(facts), author=actor, at=now
        )
    before = audit.snapshot(ticket, ("status", "resolved_at"))
    has_tech = ticket.assigned_tech_id is not None
    new_status = status_after_reply(ticket.status, has_technician=has_tech)
    detail = ""
    if new_status is not None:
        detail = f"reopened: {ticket.status} -> {new_status}"
        ticket.status = new_status
        ticket.resolved_at = None
    ticket.updated_at, ticket.updated_by = now, actor
    session.add(ticket)
    session.flush()
    if new_status is not None:
        audit.record(
            session,
            actor,
            "ticket.reopen",
            "ticket",
            ticket_id,
            "client replied by e-mail",
            before=before,
            after=audit.snapshot(ticket, ("status", "resolved_at")),
        )
    return detail


def _new_ticket(
    session: Session,
    actor: str,
    message: ParsedMessage,
    now: datetime,
    *,
    follow_up_of: Ticket | None,
) -> Ticket:
    received, date_problem = _received_at(message, now)
    client, contact = resolve_sender(session, actor, message.from_name, message.from_email)
    summary, shortened = summary_line(message.subject, MAX_SUMMARY)
    description = message.body
    if shortened:
        # The summary had to be cut: the description keeps every word of the subject.
        description = f"Subject: {message.subject}\n\n{message.body}".rstrip("\n")
    duplicate_of = (
        _possible_duplicate(session, client.id, contact.id, message.subject, received)
        if contact is not None and follow_up_of is None
        else None
    )
    ticket = Ticket(
        client_id=client.id or 0,
        contact_id=contact.id if contact else None,
        channel=Channel.EMAIL.value,
        summary=summary,
        description=description,
        status=Status.NEW.value,
        source_ref=message.source_ref,
        possible_duplicate_of=duplicate_of,
        created_at=received,
        updated_at=now,
        updated_by=actor,
    )
    session.add(ticket)
    session.flush()
    ticket_id = ticket.id or 0
    audit.record(
        session,
        actor,
        "ticket.create",
        "ticket",
        ticket_id,
        f"email from {message.from_email or 'unknown sender'} filed under {client.name}",
        after=audit.snapshot(
            ticket,
            (
                "client_id",
                "contact_id",
                "channel",
                "summary",
                "status",
                "source_ref",
                "possible_duplicate_of",
                "created_at",
            ),
        ),
    )
    facts: list[str] = []
    if follow_up_of is not None:
        facts.append(
            f"Follow-up of closed ticket #{follow_up_of.id}: "
            "the client replied after it was closed."
        )
    if duplicate_of is not None:
        facts.append(
            f"Possibly the same request as #{duplicate_of} (same contact, similar subject "
            "within a day). Merge or close one in triage."
        )
    if date_problem:
        facts.append(f"The message's {date_problem}.")
    if message.body_was_html:
        facts.append("The message had no plain-text part; its HTML was converted to text.")
    facts += _attachment_lines(message)
    if facts:
        _add_note(
            session, actor, ticket_id, NoteKind.INTERNAL, "\n".join(facts), author=actor, at=now
        )
    return ticket


def _possible_duplicate(
    session: Session,
    client_id: int | None,
    contact_id: int | None,
    subject: str,
    received: datetime,
) -> int | None:
    # client_id + created_at runs on ix_ticket_client_created_tech; contact_id has no index.
    rows = session.exec(
        select(Ticket.id, Ticket.summary)
        .where(
            Ticket.client_id == client_id,
            Ticket.contact_id == contact_id,
            col(Ticket.created_at) >= received - DUPLICATE_WINDOW,
            col(Ticket.created_at) <= received + DUPLICATE_WINDOW,
        )
        .order_by(col(Ticket.created_at).desc())
        .limit(_DUPLICATE_CANDIDATES)
    ).all()
    for ticket_id, summary in rows:
        if similar(subject, summary):
            return ticket_id
    return None
