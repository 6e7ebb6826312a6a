"""Triage: completing new tickets so a technician can work them without questions.

``triage_ticket`` applies the dispatcher's values and marks the ticket triaged
only when the checklist (rules/triage.py) is complete; marking it sets
``triaged_at`` and ``first_response_at``, since the first-response target
measures triage. ``update_triage_fields`` saves a half-filled form without
marking it, and ``apply_to_many`` triages a burst of similar tickets at once.

Every call is one write transaction: the values, the priority from the shop's
matrix, the dispatcher's note and the audit events commit together or not at all.
Inside it the ticket is read as a Core row, changed on a plain copy (``_Draft``) and
written back by one version-checked UPDATE of the changed columns (store/writes.py):
the ORM's get and flush cost about 1 ms a ticket inside the file's write lock. A
save that creates no ORM row (no client or contact by name, no note: most of them)
runs on ``Database.write_core()``, a Core connection with no ORM session at all. The
Ticket handed back is built from the saved values after the commit.

Field values: a key left out keeps the ticket's value; ``None`` clears it.
Accepted keys are ``FIELDS``; ``client`` and ``contact`` take names (created if
new, as at intake), ``contact_id`` an existing contact of the ticket's client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules import triage as rules
from dispatch_tui.rules.priority import compute_priority
from dispatch_tui.services import audit, settings, sla_stamps
from dispatch_tui.services.clients import ensure_client, ensure_contact
from dispatch_tui.services.conflicts import stale_guard, ticket_row_at
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.tickets import MAX_SUMMARY
from dispatch_tui.store import writes
from dispatch_tui.store.core import Executor
from dispatch_tui.store.models import Client, Contact, Note, NoteKind, Status, Ticket
from dispatch_tui.store.types import utcnow

FIELDS = (
    "summary",
    "client",
    "contact",
    "contact_id",
    "ticket_type",
    "category",
    "subcategory",
    "impact",
    "urgency",
    "estimate_hours",
    "required_skill",
    "due_at",
)

#: What the audit event records before and after a triage.
SNAPSHOT = (
    "summary",
    "client_id",
    "contact_id",
    "ticket_type",
    "category",
    "subcategory",
    "impact",
    "urgency",
    "priority",
    "estimate_hours",
    "required_skill",
    "due_at",
    "status",
    "triaged_at",
    "first_response_at",
)

#: Fields whose values are looked up or created as ORM rows (a client, a contact).
ORM_FIELDS = frozenset({"client", "contact", "contact_id"})

#: Triage edits tickets still on the triage desk; once assigned, changes go through dispatch.
EDITABLE = (Status.NEW.value, Status.TRIAGED.value)

#: The most tickets one bulk triage touches: a burst of alerts, not the whole desk.
MAX_BULK = 500


@dataclass(frozen=True)
class TriageResult:
    ticket: Ticket
    #: Checklist gaps left after the save, as field names (rules.triage.CHECKLIST).
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


class _Draft(SimpleNamespace):
    """A ticket row's values being edited inside the transaction (attributes like a
    Ticket's, so the rules and helpers that take a Ticket take it too)."""


def checklist(ticket: Ticket | _Draft) -> list[str]:
    """What the ticket still lacks to be triaged (field names; empty when complete)."""
    return rules.missing({name: getattr(ticket, name) for name in rules.CHECKLIST})


def triage_ticket(
    desk: Desk,
    ticket_id: int,
    *,
    expect_version: int | None = None,
    note: str | None = None,
    **fields: Any,
) -> Ticket:
    """Apply ``fields`` and mark the ticket triaged; InvalidInput names what is missing."""
    versions = {ticket_id: expect_version} if expect_version is not None else {}
    return _save(desk, [ticket_id], fields, mark=True, note=note, versions=versions)[0].ticket


def update_triage_fields(
    desk: Desk,
    ticket_id: int,
    *,
    expect_version: int | None = None,
    note: str | None = None,
    **fields: Any,
) -> TriageResult:
    """Save values without marking the ticket triaged (a half-filled triage form)."""
    versions = {ticket_id: expect_version} if expect_version is not None else {}
    return _save(desk, [ticket_id], fields, mark=False, note=note, versions=versions)[0]


def apply_to_many(
    desk: Desk,
    ticket_ids: Iterable[int],
    fields: Mapping[str, Any],
    *,
    mark_triaged: bool = True,
    note: str | None = None,
    expect_versions: Mapping[int, int] | None = None,
) -> list[TriageResult]:
    """The same values on several tickets (a burst of similar alerts), all or none.

    With ``mark_triaged`` every ticket must come out complete; otherwise nothing is
    saved and the error lists each incomplete ticket with what it lacks.
    """
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        raise InvalidInput("no tickets chosen")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"{len(ids)} tickets at once is too many; at most {MAX_BULK}")
    return _save(
        desk, ids, dict(fields), mark=mark_triaged, note=note, versions=expect_versions or {}
    )


# -- the one transaction ----------------------------------------------------------------


def _save(
    desk: Desk,
    ids: list[int],
    fields: Mapping[str, Any],
    *,
    mark: bool,
    note: str | None,
    versions: Mapping[int, int],
) -> list[TriageResult]:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"triage has no field {unknown[0]!r}; fields: {', '.join(FIELDS)}")
    if "contact" in fields and "contact_id" in fields:
        raise InvalidInput("give the contact by name or by id, not both")
    now = utcnow()
    # Most saves change only the ticket's own columns: every statement is prebuilt Core,
    # so they skip the ORM session (Database.write_core, the cheaper transaction inside
    # the file's lock). A client or contact by name, or a note, creates ORM rows.
    orm = bool(note and note.strip()) or not ORM_FIELDS.isdisjoint(fields)
    with (
        stale_guard(desk, ids[0], versions.get(ids[0])),
        desk.db.write() if orm else desk.db.write_core() as session,
    ):
        policy = settings.load_policy(session)
        drafts: list[tuple[Any, _Draft, list[str]]] = []
        incomplete: list[str] = []
        for ticket_id in ids:
            row = ticket_row_at(session, ticket_id, versions.get(ticket_id))
            if row.status not in EDITABLE:
                raise InvalidInput(
                    f"ticket #{ticket_id} is {row.status}; triage edits only new or triaged tickets"
                )
            draft = _Draft(**row._mapping)
            gaps = _apply(session, desk, draft, fields, policy, mark=mark, now=now)
            if gaps and (mark or draft.status == Status.TRIAGED.value):
                incomplete.append(f"#{ticket_id} lacks {rules.describe(gaps)}")
            drafts.append((row, draft, gaps))
        if incomplete:
            # Raised inside the transaction, so nothing of the batch is saved.
            verb = "cannot be triaged yet" if mark else "would no longer be complete"
            raise InvalidInput(f"{_plural(len(incomplete))} {verb}: {'; '.join(incomplete)}")
        for row, draft, _ in drafts:
            changed = {k: v for k, v in vars(draft).items() if v != getattr(row, k)}
            draft.version = writes.update_versioned(
                session, writes.TICKET, row.id, row.version, changed
            )
        _record(session, desk, drafts, note=note, bulk=len(ids) > 1)
    return [TriageResult(Ticket(**vars(draft)), gaps) for _, draft, gaps in drafts]


def _plural(count: int) -> str:
    return "1 ticket" if count == 1 else f"{count} tickets"


def _apply(
    session: Executor,
    desk: Desk,
    ticket: _Draft,
    fields: Mapping[str, Any],
    policy: settings.ShopPolicy,
    *,
    mark: bool,
    now: datetime,
) -> list[str]:
    """Set the values, priority and SLA moments on the draft; return the checklist gaps."""
    try:
        _set_values(session, desk, ticket, fields, policy)
    except ValueError as exc:
        raise InvalidInput(f"ticket #{ticket.id}: {exc}") from None
    ticket.priority = compute_priority(
        ticket.impact, ticket.urgency, ticket.ticket_type, ticket.estimate_hours, policy.priority
    )
    # The SLA report counts outcomes from these moments in SQL; derived from the priority
    # just set, in the same transaction, so the row is never judged on a stale basis.
    sla_stamps.stamp(ticket, policy)
    gaps = checklist(ticket)
    if mark and not gaps and ticket.status == Status.NEW.value:
        ticket.status = Status.TRIAGED.value
        ticket.triaged_at = now
        # An earlier first response (a call back before triage) stands.
        ticket.first_response_at = ticket.first_response_at or now
    ticket.updated_at, ticket.updated_by = now, desk.actor
    return gaps


def _set_values(
    session: Executor,
    desk: Desk,
    ticket: _Draft,
    fields: Mapping[str, Any],
    policy: settings.ShopPolicy,
) -> None:
    if "summary" in fields:
        summary = (fields["summary"] or "").strip()
        if not summary:
            raise ValueError("a summary is required")
        if len(summary) > MAX_SUMMARY:
            raise ValueError(
                f"the summary is {len(summary)} characters; keep it under {MAX_SUMMARY}"
            )
        ticket.summary = summary
    if "client" in fields:
        client = ensure_client(_orm(session), desk.actor, fields["client"] or "")
        if client.id != ticket.client_id:
            ticket.client_id = client.id or 0
            # The old contact belongs to the old client; the checklist asks for a new one.
            ticket.contact_id = None
    if "contact" in fields:
        name = fields["contact"]
        if name is None or not name.strip():
            ticket.contact_id = None
        else:
            client = _orm(session).get(Client, ticket.client_id)
            if client is None:
                raise ValueError(f"the ticket's client #{ticket.client_id} no longer exists")
            ticket.contact_id = ensure_contact(_orm(session), desk.actor, client, name).id
    if "contact_id" in fields:
        ticket.contact_id = _contact_of_client(
            _orm(session), fields["contact_id"], ticket.client_id
        )
    if "ticket_type" in fields:
        value = fields["ticket_type"]
        ticket.ticket_type = None if value is None else rules.parse_type(value)
    if "category" in fields or "subcategory" in fields:
        category = fields.get("category", ticket.category)
        subcategory = fields.get("subcategory", ticket.subcategory)
        if category is None:
            if subcategory is not None:
                raise ValueError("a subcategory needs a category")
            ticket.category = ticket.subcategory = None
        else:
            if "subcategory" not in fields and category != ticket.category:
                subcategory = None  # the old subcategory belonged to the old category
            ticket.category, ticket.subcategory = rules.parse_category(
                category, subcategory, policy.categories
            )
    for level in ("impact", "urgency"):
        if level in fields:
            value = fields[level]
            setattr(ticket, level, None if value is None else rules.parse_level(value, level))
    if "estimate_hours" in fields:
        value = fields["estimate_hours"]
        ticket.estimate_hours = None if value is None else rules.parse_estimate(value)
    if "required_skill" in fields:
        value = fields["required_skill"]
        ticket.required_skill = None if value is None else rules.parse_skill(value)
    if "due_at" in fields:
        value = fields["due_at"]
        ticket.due_at = None if value is None else rules.check_due(value, ticket.created_at)


def _orm(session: Executor) -> Session:
    """The ORM session of a save that needs one (``_save`` opens ``write()`` for them)."""
    if not isinstance(session, Session):
        raise TypeError("this triage change creates ORM rows: add its field to ORM_FIELDS")
    return session


def _contact_of_client(session: Session, contact_id: int | None, client_id: int) -> int | None:
    if contact_id is None:
        return None
    contact = session.get(Contact, contact_id)
    if contact is None or contact.client_id != client_id:
        raise ValueError(f"contact #{contact_id} is not a contact of the ticket's client")
    return contact.id


def _record(
    session: Executor,
    desk: Desk,
    drafts: list[tuple[Any, _Draft, list[str]]],
    *,
    note: str | None,
    bulk: bool,
) -> None:
    for row, ticket, _ in drafts:
        before = audit.snapshot(row, SNAPSHOT)
        after = audit.snapshot(ticket, SNAPSHOT)
        newly_triaged = (
            before["status"] == Status.NEW.value and ticket.status == Status.TRIAGED.value
        )
        action = "ticket.triage" if newly_triaged else "ticket.update"
        changed = sorted(k for k in SNAPSHOT if before[k] != after[k])
        detail = (
            f"triaged as {ticket.priority}"
            if newly_triaged
            else f"triage fields: {', '.join(changed) or 'none'}"
        )
        if bulk:
            detail += f" (bulk, {len(drafts)} tickets)"
        audit.record(
            session,
            desk.actor,
            action,
            "ticket",
            ticket.id,
            detail,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
        if note and note.strip():
            # The dispatcher's own words, kept exactly as typed.
            written = Note(
                ticket_id=ticket.id or 0, kind=NoteKind.INTERNAL.value, body=note, author=desk.actor
            )
            orm = _orm(session)
            orm.add(written)
            orm.flush()
            audit.record(
                session,
                desk.actor,
                "note.create",
                "note",
                written.id,
                f"internal note on ticket #{ticket.id}",
            )
