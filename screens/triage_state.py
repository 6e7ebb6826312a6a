"""The triage session's state, apart from any widget: drafts, marks, the last triage.

Pure Python (no Textual): the screen keeps one ``Draft`` per ticket the dispatcher
has touched, so moving to another ticket and back, or a refused save, never loses
what was typed. Text fields stay as typed until confirm turns them into values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, tzinfo
from typing import Any

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules import triage as rules
from dispatch_tui.rules.priority import PriorityPolicy, compute_priority
from dispatch_tui.screens.when import format_shop, parse_due
from dispatch_tui.store.models import Ticket
from dispatch_tui.textsafe import plain

#: The values one triage shares with the next similar ticket (repeat, apply to marked):
#: what a burst of alerts has in common, not what identifies each one.
SHARED = (
    "ticket_type",
    "category",
    "subcategory",
    "impact",
    "urgency",
    "estimate",
    "skill",
    "due",
)


@dataclass
class Draft:
    """The triage panel's values for one ticket, as typed."""

    ticket_id: int
    version: int
    created_at: datetime
    description: str = ""
    channel: str = ""
    #: The stored status when loaded (not edited here; an edit conflict shows it).
    status: str = ""
    #: Summary, client and contact as loaded: only what the dispatcher changed is sent,
    #: so a stored value is never rewritten by its display-safe copy.
    loaded_summary: str = ""
    loaded_client: str = ""
    loaded_contact: str = ""
    summary: str = ""
    client: str = ""
    contact: str = ""
    ticket_type: str | None = None
    category: str = ""
    subcategory: str = ""
    impact: str | None = None
    urgency: str | None = None
    estimate: str = ""
    skill: str = ""
    due: str = ""
    note: str = ""

    @classmethod
    def from_ticket(cls, ticket: Ticket, client: str, contact: str | None, zone: tzinfo) -> Draft:
        # Inputs draw their value as is: control characters are neutralised first.
        summary, client, contact = plain(ticket.summary), plain(client), plain(contact)
        return cls(
            ticket_id=ticket.id or 0,
            version=ticket.version,
            created_at=ticket.created_at,
            description=ticket.description,
            channel=ticket.channel,
            status=ticket.status,
            loaded_summary=summary,
            loaded_client=client,
            loaded_contact=contact,
            summary=summary,
            client=client,
            contact=contact,
            ticket_type=ticket.ticket_type,
            category=ticket.category or "",
            subcategory=ticket.subcategory or "",
            impact=ticket.impact,
            urgency=ticket.urgency,
            estimate="" if ticket.estimate_hours is None else f"{ticket.estimate_hours:g}",
            skill=ticket.required_skill or "",
            due=format_shop(ticket.due_at, zone),
        )

    # -- reading the typed values ------------------------------------------------------

    def estimate_hours(self) -> float | None:
        """The estimate as a number, or None while empty or unreadable."""
        try:
            return float(self.estimate.strip().rstrip("h")) if self.estimate.strip() else None
        except ValueError:
            return None

    def due_at(self, zone: tzinfo, now: datetime) -> datetime | None:
        try:
            return parse_due(self.due, zone, now)
        except InvalidInput:
            return None

    def missing(self, zone: tzinfo, now: datetime) -> list[str]:
        """The checklist gaps (rules/triage.py field names) for the values as typed."""
        return rules.missing(
            {
                "summary": self.summary,
                "client_id": self.client,
                "contact_id": self.contact,
                "ticket_type": self.ticket_type,
                "category": self.category,
                "impact": self.impact,
                "urgency": self.urgency,
                "estimate_hours": self.estimate_hours(),
                "required_skill": self.skill,
                "due_at": self.due_at(zone, now),
            }
        )

    def priority(self, policy: PriorityPolicy) -> str | None:
        return compute_priority(
            self.impact, self.urgency, self.ticket_type, self.estimate_hours(), policy
        )

    def client_changed(self) -> bool:
        return self.client.strip().casefold() != self.loaded_client.strip().casefold()

    # -- turning them into service values ------------------------------------------------

    def shared_fields(self, zone: tzinfo, now: datetime) -> dict[str, Any]:
        """The SHARED values for ``triage_ticket`` / ``apply_to_many``; only those set,
        so applying them to other tickets never clears what those already have."""
        values: dict[str, Any] = {}
        if self.ticket_type:
            values["ticket_type"] = self.ticket_type
        if self.category.strip():
            values["category"] = self.category.strip()
            values["subcategory"] = self.subcategory.strip() or None
        for level in ("impact", "urgency"):
            if getattr(self, level):
                values[level] = getattr(self, level)
        if self.estimate.strip():
            hours = self.estimate_hours()
            if hours is None:
                raise InvalidInput(f"estimate: {self.estimate!r} is not a number of hours")
            values["estimate_hours"] = hours
        if self.skill.strip():
            values["required_skill"] = self.skill.strip()
        if self.due.strip():
            values["due_at"] = parse_due(self.due, zone, now)
        return values

    def all_fields(self, zone: tzinfo, now: datetime) -> dict[str, Any]:
        """Everything on the panel for ``triage_ticket``: a cleared field clears the value."""
        values: dict[str, Any] = {
            "ticket_type": self.ticket_type,
            "category": None,
            "subcategory": None,
            "impact": self.impact,
            "urgency": self.urgency,
            "estimate_hours": None,
            "required_skill": None,
            "due_at": None,
        }
        if self.summary != self.loaded_summary:
            values["summary"] = self.summary
        if self.client_changed():
            values["client"] = self.client
        if self.client_changed() or self.contact.strip() != self.loaded_contact.strip():
            # A new client drops the old contact; say who it is at the new one.
            values["contact"] = self.contact.strip() or None
        values.update(self.shared_fields(zone, now))
        return values

    def shared(self) -> dict[str, Any]:
        """The SHARED values as typed, to lay over another ticket's draft."""
        return {name: getattr(self, name) for name in SHARED}

    def take(self, values: Mapping[str, Any]) -> None:
        """Lay typed values (from ``shared``) over this draft."""
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name in known:
                setattr(self, name, value)

    def copy(self) -> Draft:
        return replace(self)


@dataclass
class Session:
    """What the dispatcher did on this screen since the app started."""

    triaged: int = 0
    marked: set[int] = field(default_factory=set)
    drafts: dict[int, Draft] = field(default_factory=dict)
    #: Each draft as it was loaded, before any typing: what "your edit" is measured
    #: against when someone else saved the ticket meanwhile.
    bases: dict[int, Draft] = field(default_factory=dict)
    #: The SHARED values of the last successful triage, for "repeat last".
    last: dict[str, Any] | None = None

    def toggle_mark(self, ticket_id: int) -> bool:
        if ticket_id in self.marked:
            self.marked.discard(ticket_id)
            return False
        self.marked.add(ticket_id)
        return True

    def open(self, loaded: Draft) -> Draft:
        """The draft to edit for a freshly loaded ticket: the one already typed into,
        if any (its base stays), else ``loaded`` with a copy kept as its base."""
        kept = self.drafts.get(loaded.ticket_id)
        if kept is not None:
            return kept
        self.drafts[loaded.ticket_id] = loaded
        self.bases[loaded.ticket_id] = loaded.copy()
        return loaded

    def untouched(self, ticket_id: int) -> bool:
        """Whether the draft is still exactly as loaded (nothing typed into it)."""
        draft = self.drafts.get(ticket_id)
        return draft is not None and draft == self.bases.get(ticket_id)

    def forget(self, ticket_id: int) -> None:
        self.drafts.pop(ticket_id, None)
        self.bases.pop(ticket_id, None)

    def done(self, ticket_ids: list[int], shared: dict[str, Any]) -> None:
        """Tickets left the queue triaged: count them, forget their drafts and marks."""
        self.triaged += len(ticket_ids)
        for ticket_id in ticket_ids:
            self.forget(ticket_id)
            self.marked.discard(ticket_id)
        self.last = dict(shared)

    def forget_gone(self, waiting: set[int]) -> None:
        """Another dispatcher triaged some: their marks and drafts no longer apply."""
        self.marked &= waiting
        for ticket_id in [t for t in self.drafts if t not in waiting]:
            self.forget(ticket_id)


def progress_text(session: Session, waiting: int, oldest_minutes: int | None) -> str:
    """'4 of 11 triaged, 7 waiting, oldest 38 min' (the session's count over its total)."""
    text = f"{session.triaged} of {session.triaged + waiting} triaged, {waiting} waiting"
    if oldest_minutes is not None:
        text += f", oldest {format_minutes(oldest_minutes)}"
    return text


def format_minutes(minutes: float) -> str:
    """'38 min', '2h 05m', '3d 4h' (as the Waiting column reads); negative keeps its sign."""
    sign = "-" if minutes < 0 else ""
    total = int(abs(minutes))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {mins:02d}m"
    return f"{sign}{mins} min"
