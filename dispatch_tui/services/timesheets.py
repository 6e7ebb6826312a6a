"""Time entries (logged, then approved by the dispatcher) and the weekly utilisation report."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, case, func
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from dispatch_tui.errors import EditConflict, InvalidInput, NotFound
from dispatch_tui.rules.holidays import closed_dates
from dispatch_tui.rules.schedule import Absence
from dispatch_tui.rules.utilization import (
    FLAG_TEXT,
    Flag,
    IsoWeek,
    Thresholds,
    available_hours,
    classify,
)
from dispatch_tui.services import audit
from dispatch_tui.services.availability import (
    Staff,
    absences_by_tech,
    find_tech,
    read_staff,
    tech_id_params,
    tech_ids_in,
    working_hours,
)
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import stored_texts, write_setting
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import Client, Technician, Ticket, TimeEntry
from dispatch_tui.store.queries import DEFAULT_LIMIT
from dispatch_tui.store.types import utcnow

#: Setting keys (JSON numbers, fractions of 1) for the utilisation thresholds.
UTILIZATION_TARGET = "utilization_target"
UTILIZATION_HIGH = "utilization_high"
UTILIZATION_LOW = "utilization_low"
THRESHOLD_KEYS = (UTILIZATION_TARGET, UTILIZATION_HIGH, UTILIZATION_LOW)

#: One entry covers at most a day; longer is a typo (7.5 typed as 75).
MAX_ENTRY_HOURS = 24.0
#: How many entries one approval may name.
MAX_APPROVE = 500


@dataclass(frozen=True)
class EntryRow:
    id: int
    ticket_id: int
    tech: str
    client: str
    summary: str
    started_at: datetime
    hours: float
    billable: bool
    note: str
    approved_at: datetime | None
    approved_by: str | None
    version: int


@dataclass(frozen=True)
class TechUtilization:
    tech_id: int
    tech: str
    billable_hours: float
    total_hours: float
    #: Billable hours not yet approved: a high ratio built on unapproved time deserves a look.
    unapproved_billable_hours: float
    available_hours: float
    utilization: float | None
    flag: Flag

    @property
    def flag_text(self) -> str:
        return FLAG_TEXT[self.flag]


@dataclass(frozen=True)
class UtilizationReport:
    week: str
    thresholds: Thresholds
    rows: list[TechUtilization]


# -- time entries -----------------------------------------------------------------------


def add_time_entry(
    desk: Desk,
    ticket_id: int,
    tech: str | int,
    hours: float,
    *,
    billable: bool = True,
    note: str = "",
    started_at: datetime | None = None,
) -> TimeEntry:
    """Log time on a ticket; it waits for the dispatcher's approval."""
    if not 0 < hours <= MAX_ENTRY_HOURS:
        raise InvalidInput(
            f"hours must be more than 0 and at most {MAX_ENTRY_HOURS:g}, not {hours:g}"
        )
    now = utcnow()
    # Without a start, the work is taken to have just finished.
    started = started_at or now - timedelta(hours=hours)
    if started.tzinfo is None:
        raise InvalidInput("the start time needs a time zone")
    if started > now:
        raise InvalidInput("time cannot be logged for work that has not started yet")
    with desk.db.write() as session:
        if session.get(Ticket, ticket_id) is None:
            raise NotFound(f"no ticket #{ticket_id}")
        tech_row = find_tech(session, tech)
        entry = TimeEntry(
            ticket_id=ticket_id,
            tech_id=tech_row.id or 0,
            started_at=started.astimezone(UTC),
            hours=hours,
            billable=billable,
            note=note.strip(),
        )
        session.add(entry)
        session.flush()
        kind = "billable" if billable else "non-billable"
        audit.record(
            session,
            desk.actor,
            "time_entry.create",
            "time_entry",
            entry.id,
            f"{hours:g} h {kind} by {tech_row.name} on ticket #{ticket_id}",
            after=audit.snapshot(
                entry, ("ticket_id", "tech_id", "started_at", "hours", "billable")
            ),
        )
    return entry


def approve_time_entries(desk: Desk, ids: Iterable[int]) -> list[int]:
    """Approve entries; returns the ids newly approved (already-approved ones are skipped)."""
    wanted = sorted(set(ids))
    if not wanted:
        raise InvalidInput("name at least one time entry to approve")
    if len(wanted) > MAX_APPROVE:
        raise InvalidInput(f"approve at most {MAX_APPROVE} entries at once")
    approved: list[int] = []
    with desk.db.write() as session:
        rows = {
            e.id: e
            for e in session.exec(select(TimeEntry).where(col(TimeEntry.id).in_(wanted))).all()
        }
        missing = [i for i in wanted if i not in rows]
        if missing:
            raise NotFound(f"no time entry {', '.join(f'#{i}' for i in missing)}; nothing approved")
        now = utcnow()
        for entry_id in wanted:
            entry = rows[entry_id]
            if entry.approved_at is not None:
                continue
            entry.approved_at, entry.approved_by = now, desk.actor
            session.add(entry)
            approved.append(entry_id)
            audit.record(
                session,
                desk.actor,
                "time_entry.approve",
                "time_entry",
                entry_id,
                f"{entry.hours:g} h on ticket #{entry.ticket_id}",
                before={"approved_at": None},
                after=audit.snapshot(entry, ("approved_at", "approved_by")),
            )
        try:
            session.flush()
        except StaleDataError:
            raise EditConflict(
                "a time entry changed while approving; nothing approved, try again"
            ) from None
    return approved


def _entry_rows_query():
    return (
        select(TimeEntry, Technician.name, Client.name, Ticket.summary)
        .join(Technician, Technician.id == TimeEntry.tech_id)
        .join(Ticket, Ticket.id == TimeEntry.ticket_id)
        .join(Client, Client.id == Ticket.client_id)
    )


def _to_entry_row(entry: TimeEntry, tech: str, client: str, summary: str) -> EntryRow:
    return EntryRow(
        entry.id or 0,
        entry.ticket_id,
        tech,
        client,
        summary,
        entry.started_at,
        entry.hours,
        entry.billable,
        entry.note,
        entry.approved_at,
        entry.approved_by,
        entry.version,
    )


def pending_time_entries(
    desk: Desk, *, tech: str | int | None = None, limit: int = DEFAULT_LIMIT
) -> list[EntryRow]:
    """Entries waiting for approval, oldest first."""
    query = (
        _entry_rows_query()
        .where(col(TimeEntry.approved_at).is_(None))
        .order_by(col(TimeEntry.started_at), col(TimeEntry.id))
        .limit(limit)
    )
    with desk.db.read() as session:
        if tech is not None:
            query = query.where(TimeEntry.tech_id == find_tech(session, tech).id)
        return [_to_entry_row(*row) for row in session.exec(query).all()]


def set_billable(
    desk: Desk, entry_id: int, billable: bool, *, expected_version: int | None = None
) -> EntryRow:
    """Mark a pending entry billable or not, which the dispatcher settles before approving.

    An approved entry is refused: approval signs off the hours as they were.
    ``expected_version`` (from the row the dispatcher looked at) refuses a change made
    meanwhile by someone else instead of overwriting it.
    """
    with desk.db.write() as session:
        entry = session.get(TimeEntry, entry_id)
        if entry is None:
            raise NotFound(f"no time entry #{entry_id}")
        if expected_version is not None and entry.version != expected_version:
            raise EditConflict(
                f"time entry #{entry_id} changed since you read it (version "
                f"{expected_version}, now {entry.version}); reload and try again"
            )
        if entry.approved_at is not None:
            raise InvalidInput(
                f"time entry #{entry_id} was approved by {entry.approved_by}; "
                "it can no longer change"
            )
        if entry.billable != billable:
            before = audit.snapshot(entry, ("billable",))
            entry.billable = billable
            session.add(entry)
            try:
                session.flush()
            except StaleDataError:
                raise EditConflict(
                    f"time entry #{entry_id} was changed by someone else; reload and try again"
                ) from None
            kind = "billable" if billable else "non-billable"
            audit.record(
                session,
                desk.actor,
                "time_entry.billable",
                "time_entry",
                entry_id,
                f"{entry.hours:g} h on ticket #{entry.ticket_id} marked {kind}",
                before=before,
                after=audit.snapshot(entry, ("billable",)),
            )
        row = session.exec(_entry_rows_query().where(TimeEntry.id == entry_id)).one()
        return _to_entry_row(*row)


# -- utilisation ------------------------------------------------------------------------


def thresholds_in(session: Session) -> Thresholds:
    """``utilization_thresholds`` inside the caller's transaction."""
    return thresholds_from(stored_texts(session, THRESHOLD_KEYS))


def thresholds_from(stored_text: Mapping[str, str]) -> Thresholds:
    """The thresholds from the stored texts of ``THRESHOLD_KEYS`` (a key not set is
    absent), read by the caller in its transaction."""
    default = Thresholds()
    try:
        stored = {key: json.loads(value) for key, value in stored_text.items()}
        return Thresholds(
            target=float(stored.get(UTILIZATION_TARGET, default.target)),
            high=float(stored.get(UTILIZATION_HIGH, default.high)),
            low=float(stored.get(UTILIZATION_LOW, default.low)),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the utilisation settings are unusable: {exc}") from None


def utilization_thresholds(desk: Desk) -> Thresholds:
    with desk.db.read() as session:
        return thresholds_in(session)


def set_utilization_thresholds(
    desk: Desk, *, target: float | None = None, high: float | None = None, low: float | None = None
) -> Thresholds:
    """Change the shop's target and flag levels (fractions: 0.75 is 75%)."""
    with desk.db.write() as session:
        current = thresholds_in(session)
        try:
            wanted = Thresholds(
                target=current.target if target is None else target,
                high=current.high if high is None else high,
                low=current.low if low is None else low,
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        for key, old, new in (
            (UTILIZATION_TARGET, current.target, wanted.target),
            (UTILIZATION_HIGH, current.high, wanted.high),
            (UTILIZATION_LOW, current.low, wanted.low),
        ):
            if old != new:
                write_setting(session, desk.actor, key, new)
    return wanted


@lru_cache(maxsize=8)
def _sums_query(count: int) -> Select:
    """Billable, total and pending billable hours per technician in [start, end).

    Naming the active technicians keeps it on ix_time_entry_tech_start_hours (a range per
    technician) instead of scanning every entry ever logged. Built once and run as
    Core on the session's connection: building it and running it through the ORM
    session cost several times what SQLite takes to answer it.
    """
    billable_expr = case((col(TimeEntry.billable).is_(True), TimeEntry.hours), else_=0.0)
    pending_expr = case(
        (
            col(TimeEntry.billable).is_(True) & col(TimeEntry.approved_at).is_(None),
            TimeEntry.hours,
        ),
        else_=0.0,
    )
    return (
        select(
            TimeEntry.tech_id,
            func.sum(billable_expr),
            func.sum(TimeEntry.hours),
            func.sum(pending_expr),
        )
        .where(
            tech_ids_in(TimeEntry.tech_id, count),
            col(TimeEntry.started_at) >= bindparam("start"),
            col(TimeEntry.started_at) < bindparam("end"),
        )
        .group_by(TimeEntry.tech_id)
    )


def utilization_report(desk: Desk, week: IsoWeek | str | None = None) -> UtilizationReport:
    """Billable utilisation of every active technician for one ISO week (default: this week).

    Hours count in the week their entry started in, shop-local. Pending entries count
    too (the dispatcher approves later), and are shown apart.
    """
    with desk.db.read() as session:
        return utilization_in(session, week)


def current_week(zone: ZoneInfo) -> IsoWeek:
    """This week in the shop's time zone: the week ``utilization_in`` reports by default."""
    return IsoWeek.containing(utcnow().astimezone(zone).date())


def absence_window(week: IsoWeek, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The span whose absences ``utilization_in`` reads for ``week``: night shifts can
    run past Sunday midnight, so a day beyond the week."""
    start, end = week.bounds(zone)
    return start, end + timedelta(days=1)


def utilization_in(
    session: Session,
    week: IsoWeek | str | None = None,
    staff: Staff | None = None,
    *,
    away: Mapping[int, list[Absence]] | None = None,
    thresholds: Thresholds | None = None,
) -> UtilizationReport:
    """``utilization_report`` inside the caller's transaction; ``staff`` when the caller
    has read it already (the roster), so it is read once; ``away`` likewise: every
    active technician's absences over ``absence_window(week)``, read in this
    transaction (the roster shares them with its loads); ``thresholds`` likewise, when
    the caller has read them in this transaction (``thresholds_from``)."""
    staff = staff or read_staff(session)
    zone = staff.zone
    if week is None:
        week = current_week(zone)
    elif isinstance(week, str):
        try:
            week = IsoWeek.parse(week)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    thresholds = thresholds or thresholds_in(session)
    start, end = week.bounds(zone)
    ids = staff.tech_ids
    # One aggregate row per technician, whatever the number of entries.
    sums = {
        tech_id: (float(billable or 0), float(total or 0), float(pending or 0))
        for tech_id, billable, total, pending in connection_for(session).execute(
            _sums_query(len(ids)), {**tech_id_params(ids), "start": start, "end": end}
        )
    }
    holidays = closed_dates(staff.holidays, week.monday, week.sunday)
    if away is None:
        away = absences_by_tech(session, ids, *absence_window(week, zone))
    rows = []
    for tech in staff.techs:
        tech_id = tech.id or 0
        # The week's shifts are remembered by value inside available_hours (rules);
        # only the absences, which run to now, are applied at each call.
        available = available_hours(
            working_hours(tech),
            zone,
            week,
            holidays=holidays,
            away=[(a.start, a.end) for a in away[tech_id]],
        )
        billable, total, pending = sums.get(tech_id, (0.0, 0.0, 0.0))
        ratio, flag = classify(billable, available, thresholds)
        rows.append(
            TechUtilization(
                tech_id,
                tech.name,
                round(billable, 2),
                round(total, 2),
                round(pending, 2),
                available,
                None if ratio is None else round(ratio, 4),
                flag,
            )
        )
    return UtilizationReport(str(week), thresholds, rows)
