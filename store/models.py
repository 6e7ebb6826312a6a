"""The tables. Names and columns are a public contract: docs/schema.md documents each one,
and shops query the file with their own tools. Change them only with a schema migration.
"""

# No ``from __future__ import annotations`` here: pydantic and SQLAlchemy would then
# evaluate every column's annotation from its string again, at each start.
from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    Table,
    UniqueConstraint,
    bindparam,
    event,
    false,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import declared_attr
from sqlmodel import AutoString, Field, SQLModel

from dispatch_tui.store.types import UTCDateTime, utcnow


def share_partial_indexes(metadata: MetaData) -> None:
    """Give PostgreSQL the conditions of the partial indexes, which the tables state for
    SQLite only: stating ``postgresql_where`` in a table makes SQLAlchemy import its
    PostgreSQL dialect to check the argument, about 25 ms of every start of an app
    that may never see PostgreSQL. The PostgreSQL backend calls this before any DDL;
    the conditions are plain SQL both accept."""
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None:
                index.dialect_kwargs["postgresql_where"] = where


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    TEXT = "text"
    PORTAL = "portal"
    MONITORING = "monitoring"


class Status(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CLIENT = "waiting_client"
    WAITING_VENDOR = "waiting_vendor"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = tuple(s for s in Status if s not in (Status.RESOLVED, Status.CLOSED))

#: ``status IN (...)`` over the open statuses, in OPEN_STATUSES order, as SQL text: the
#: condition of schema 6's partial index. A query uses that index only when its WHERE
#: holds this same condition, term for term (services/health.py writes it so).
OPEN_CONDITION = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_STATUSES))

#: The SLA clocks as (name, event column, met-by column): a clock is met when its event
#: came no later than its met-by moment (rules/sla_due.py, ``judge``).
SLA_CLOCKS = (
    ("response", "first_response_at", "respond_by"),
    ("engagement", "engaged_at", "engage_by"),
    ("resolution", "resolved_at", "resolve_by"),
)


class TicketType(StrEnum):
    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"


class Level(StrEnum):
    """Impact and urgency share one three-step scale."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    QUICK_HIT = "quick_hit"


class NoteKind(StrEnum):
    INTERNAL = "internal"
    CLIENT = "client"
    RESOLUTION = "resolution"


def _created() -> datetime:
    return utcnow()


class Record(SQLModel):
    """What every table shares: pydantic builds a model's validator on first use.

    Table models are created from rows and by the services without validation; only
    the CLI's JSON output (``model_dump``) uses pydantic's machinery. Building it for
    the 13 tables at import was about a fifth of the import of this module, paid at
    every start before the first screen.
    """

    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]


class Versioned(Record):
    """Every editable record carries a version that each ORM update bumps.

    SQLAlchemy turns it into ``UPDATE ... WHERE id=? AND version=?``; a stale
    write matches no row and fails instead of overwriting someone else's change.
    """

    version: int = Field(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805 - SQLAlchemy passes the class
        return {"version_id_col": cls.__table__.c.version}


class Meta(Record, table=True):
    """Key/value facts about the file itself, such as the schema version."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class Setting(Record, table=True):
    """Shop-wide settings shared by every dispatcher on the file; value is JSON."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True)
    value: str
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    updated_by: str = ""


class Client(Versioned, table=True):
    __tablename__ = "client"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    # Comma-separated e-mail domains, used to file incoming mail under the client.
    domains: str = ""
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Contact(Versioned, table=True):
    __tablename__ = "contact"
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    name: str
    email: str = Field(default="", index=True)
    phone: str = ""
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Technician(Versioned, table=True):
    __tablename__ = "technician"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    tier: int = 1
    # Comma-separated skill names, lower case.
    skills: str = ""
    email: str = ""
    active: bool = True
    # Working hours in the shop's time zone: weekdays as "mon,tue,..." and HH:MM bounds.
    work_days: str = "mon,tue,wed,thu,fri"
    work_start: str = "08:00"
    work_end: str = "17:00"
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Ticket(Versioned, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        # The triage queue (status='new' oldest first) and the dispatch board. Schema 4
        # adds priority and resolved_at: the health check "past the resolution target"
        # then decides its open tickets in the index (0.4 against 3.5 ms at 100k).
        Index("ix_ticket_status_created", "status", "created_at", "priority", "resolved_at"),
        # Schema 5: also priority and created_at, so the board picks its work from the
        # index alone and reads only the rows it shows.
        Index(
            "ix_ticket_tech_status_priority",
            "assigned_tech_id",
            "status",
            "queue_position",
            "priority",
            "created_at",
        ),
        # Schema 5: also the technician, so "has worked this client" (suggestions)
        # counts a client's recent tickets per technician from the index alone.
        Index("ix_ticket_client_created_tech", "client_id", "created_at", "assigned_tech_id"),
        # Reports count tickets by when they arrived, whatever their status. Schema 7
        # adds the SLA stamp's receipt and the priority: the SLA report finds the
        # tickets whose moments it cannot trust (new, unstamped ones) from the index
        # entries and reads only their rows.
        Index("ix_ticket_created", "created_at", "sla_policy", "sla_basis", "priority"),
        # The escalated-untouched health check: few rows, found without a status scan.
        Index("ix_ticket_escalated_status", "escalated", "status"),
        # Schema 2 (store/schema.py): the screens' counts read these indexes alone,
        # never the ticket rows, so their cost follows the open work, not history.
        # Header "overdue": open statuses with a due date before now.
        Index("ix_ticket_status_due", "status", "due_at"),
        # Open tickets and queued estimate hours per technician (roster, dashboard).
        Index("ix_ticket_status_tech_estimate", "status", "assigned_tech_id", "estimate_hours"),
        # The priority mix of a period: type and priority of the tickets that arrived in it.
        Index("ix_ticket_created_type_priority", "created_at", "ticket_type", "priority"),
        # Schema 5: the priority mix counts each (type, priority) pair's arrivals in a
        # period as one range of this index, with no sort of the period's tickets.
        Index("ix_ticket_type_priority_created", "ticket_type", "priority", "created_at"),
        # Schema 8: the SLA report's running clocks. Finished clocks are counted from
        # ``sla_tally`` (store/sla_tally.py); whether a clock still running is pending or
        # missed depends on the moment of the report, so those are counted here: per
        # receipt and stretch of arrivals, one range of an index that holds only the
        # tickets whose clock runs (a few thousand at a million tickets).
        *(
            Index(
                f"ix_ticket_running_{clock}",
                "sla_policy",
                "sla_basis",
                "priority",
                "created_at",
                due,
                sqlite_where=text(f"{event} IS NULL AND {due} IS NOT NULL"),
            )
            for clock, event, due in SLA_CLOCKS
        ),
        # Schema 4: the "resolved without a resolution note" health check finds its
        # offenders in this index alone, however much resolved history the file keeps.
        # The flag leads, so queries by status alone keep the indexes they had.
        Index("ix_ticket_noted_status", "resolution_noted", "status"),
        # Schema 6 (store/schema.py, HEALTH_OPEN_INDEX): every ticket column the desk
        # health checks read, for the open tickets only. The checks then read a few
        # hundred pages of this index instead of scattered ticket rows and note index
        # pages (a 1M-ticket file's open work is spread over its whole history). It
        # replaces schema 4's (status, engaged_at), whose engaged_at range SQLite
        # preferred for "no note after a day" though it meant reading ticket rows.
        Index(
            "ix_ticket_open_health",
            "status",
            "created_at",
            "priority",
            "resolved_at",
            "updated_at",
            "engaged_at",
            "escalated",
            "last_note_known",
            "last_note_at",
            sqlite_where=text(OPEN_CONDITION),
        ),
        UniqueConstraint("source_ref", name="uq_ticket_source_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    channel: str = Channel.PHONE.value
    summary: str
    description: str = ""
    status: str = Status.NEW.value
    ticket_type: str | None = None
    category: str | None = None
    subcategory: str | None = None
    impact: str | None = None
    urgency: str | None = None
    priority: str | None = None
    estimate_hours: float | None = None
    required_skill: str | None = None
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    assigned_tech_id: int | None = Field(default=None, foreign_key="technician.id")
    # Position in the technician's ordered "ready to engage" queue (lower first).
    queue_position: int | None = None
    escalated: bool = False
    escalated_to: str | None = None
    # Where the request came from outside (e-mail Message-ID or a content hash), for de-duplication.
    source_ref: str | None = None
    # The earlier ticket this one may repeat (same contact, similar subject within a day):
    # the importer flags it for triage to decide rather than dropping a real request.
    possible_duplicate_of: int | None = Field(default=None, foreign_key="ticket.id")
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    triaged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    engaged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    updated_by: str = ""
    # SLA met-by moments (dispatch_tui/rules/sla_due.py), derived from created_at, the
    # priority and the shop's policy so reports count outcomes in SQL. sla_basis and
    # sla_policy record what they were derived from: a row whose priority or policy has
    # moved on since (or that was never stamped) is judged live, never trusted stale.
    sla_basis: str | None = None
    sla_policy: str | None = None
    respond_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    engage_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolve_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Schema 4: whether any ``resolution`` note was ever written on the ticket. Notes are
    # only ever added, so the flag only turns on: every ORM insert of such a note sets it
    # in the same flush (``_note_inserted`` below); bulk loads (the demo) set it with the
    # rows they write. The server default lets the migration add it to existing files.
    resolution_noted: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Schema 6: when the ticket's latest note was written (NULL: it has none), so the
    # health checks' "no note since" needs no note lookups. Trusted only where
    # last_note_known: rows that predate schema 6 and were not open then (their notes
    # were not read by the migration) carry 0 and are judged from the notes, until
    # their next note makes them known. Every ORM insert of a note recomputes both in
    # the same flush (``_note_inserted``); bulk loads (the demo) set them with the rows.
    # A new ticket has no notes yet, so it starts known; the server default is for
    # the migration's old rows.
    last_note_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_note_known: bool = Field(default=True, sa_column_kwargs={"server_default": false()})


class Note(Record, table=True):
    __tablename__ = "note"
    __table_args__ = (
        Index("ix_note_ticket_created", "ticket_id", "created_at"),
        # "Last client update" per ticket on the Dispatch screen: a covering index, so
        # MAX(created_at) for kind='client' never reads the note bodies.
        Index("ix_note_ticket_kind_created", "ticket_id", "kind", "created_at"),
        UniqueConstraint("source_ref", name="uq_note_source_ref"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    kind: str = NoteKind.INTERNAL.value
    body: str
    author: str = ""
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    # Message-ID (or content hash) of an e-mail reply threaded in as this note, so
    # re-importing the same mailbox never adds the reply twice.
    source_ref: str | None = None


_T = Ticket.__table__  # type: ignore[attr-defined]
_N = Note.__table__  # type: ignore[attr-defined]
#: The latest note of ``b_ticket``, from the (ticket_id, created_at) index.
_LATEST_NOTE = (
    select(func.max(_N.c.created_at)).where(_N.c.ticket_id == bindparam("b_ticket"))
).scalar_subquery()
_NOTED = update(_T).where(_T.c.id == bindparam("b_ticket"))
_NOTE_SEEN = _NOTED.values(last_note_at=_LATEST_NOTE, last_note_known=True)
_RESOLUTION_SEEN = _NOTED.values(
    last_note_at=_LATEST_NOTE, last_note_known=True, resolution_noted=True
)


@event.listens_for(Note, "after_insert")
def _note_inserted(mapper, connection, note: Note) -> None:  # noqa: ANN001 - SQLAlchemy's hook
    """Keep ``ticket.resolution_noted`` and ``last_note_at`` exact for every service,
    import and script that adds a note through the ORM: in the writer's own
    transaction, with a Core update that leaves ``version`` and ``updated_at`` alone (a
    note never conflicts a save). The latest note is read back rather than compared
    with this one, so a note dated in the past (an imported reply) never moves it
    back, and a ticket whose notes were not known becomes known."""
    resolution = note.kind == NoteKind.RESOLUTION.value
    connection.execute(_RESOLUTION_SEEN if resolution else _NOTE_SEEN, {"b_ticket": note.ticket_id})


class ServiceCall(Versioned, table=True):
    __tablename__ = "service_call"
    __table_args__ = (
        Index("ix_service_call_tech_start", "tech_id", "starts_at"),
        # Schema 6 adds ends_at: when a ticket's last call ends is the last entry of its
        # range (the health check "booked, no call ahead", the schedule's unbooked list).
        Index("ix_service_call_ticket_end", "ticket_id", "ends_at"),
        # Schema 2: the schedule board's week for every technician at once.
        Index("ix_service_call_start", "starts_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    tech_id: int = Field(foreign_key="technician.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    firm: bool = True
    # Set when the dispatcher booked over a conflict on purpose, with their reason.
    override_reason: str | None = None
    created_by: str = ""
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class TimeEntry(Versioned, table=True):
    __tablename__ = "time_entry"
    __table_args__ = (
        # Schema 5: with the summed columns, so a week's utilisation reads no entry row.
        Index(
            "ix_time_entry_tech_start_hours",
            "tech_id",
            "started_at",
            "billable",
            "hours",
            "approved_at",
        ),
        # Schema 6 adds created_at (the health checks' "no time logged since" reads it
        # from here) and hours (pending hours per ticket are summed from the index).
        Index("ix_time_entry_ticket_created", "ticket_id", "created_at"),
        # Entries waiting for approval (approved_at NULL), grouped by ticket for the health check.
        Index("ix_time_entry_pending_hours", "approved_at", "ticket_id", "hours"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    tech_id: int = Field(foreign_key="technician.id")
    started_at: datetime = Field(sa_type=UTCDateTime)
    hours: float
    billable: bool = True
    note: str = ""
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = None
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)


class Holiday(Record, table=True):
    """A day the shop is closed: a single date, or a yearly rule (an RFC 5545 RRULE)."""

    __tablename__ = "holiday"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    day: date | None = None
    rrule: str | None = None


class OutOfOffice(Record, table=True):
    __tablename__ = "out_of_office"
    __table_args__ = (Index("ix_ooo_tech_start", "tech_id", "starts_at"),)
    id: int | None = Field(default=None, primary_key=True)
    tech_id: int = Field(foreign_key="technician.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = ""


class AuditEvent(Record, table=True):
    """Who did what to which record, and when; before/after are JSON where they apply.

    The id only grows, so it doubles as the change log other dispatchers' apps follow.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    actor: str
    action: str
    entity: str
    entity_id: int | None = None
    detail: str = ""
    before: str | None = None
    after: str | None = None


class TicketClaim(Record, table=True):
    """A short, renewable note that a dispatcher has a ticket open ("being triaged by NAME").

    Claims inform and never block; the row version decides who wins a save. A claim
    whose holder's app died simply expires. Times come from each dispatcher's clock,
    so the TTL is kept well above any plausible clock skew between their machines.
    """

    __tablename__ = "ticket_claim"
    ticket_id: int = Field(primary_key=True, foreign_key="ticket.id")
    holder: str
    claimed_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


#: Per hour and per day of arrival (UTC), per SLA receipt: how many tickets arrived
#: and, per clock, how many have a met-by moment (judged), met it, or still run (a
#: moment and no event yet).
#:
#: Derived data, kept exact by triggers on ``ticket`` (store/sla_tally.py) in the
#: transaction of every write, whoever writes: the app, the CLI, another dispatcher's
#: process or a shop's own SQL. The SLA report then sums a few hundred of these rows
#: instead of judging every ticket of two months. Missing receipt values are stored
#: as '' (a key column cannot hold NULL and still match itself). A plain table, not a
#: model class: nothing loads its rows as objects, and a model class costs every start
#: about 4 ms to build.
SLA_TALLY = Table(
    "sla_tally",
    SQLModel.metadata,
    #: 'h' for an hour, 'd' for a day; ``starts_at`` is the start of that hour or day.
    Column("grain", AutoString, primary_key=True),
    Column("starts_at", UTCDateTime, primary_key=True),
    Column("sla_policy", AutoString, primary_key=True),
    Column("sla_basis", AutoString, primary_key=True),
    Column("priority", AutoString, primary_key=True),
    *(
        Column(name, Integer, nullable=False, default=0)
        for name in (
            "tickets",
            *(f"{clock}_{kind}" for clock, _e, _d in SLA_CLOCKS for kind in ("met", "judged")),
            *(f"{clock}_running" for clock, _e, _d in SLA_CLOCKS),
        )
    ),
)
