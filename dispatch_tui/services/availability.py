"""When a technician can work: their weekly hours and their out-of-office periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, bindparam
from sqlmodel import Session, col, select

from dispatch_tui.errors import InvalidInput, NotFound
from dispatch_tui.rules.holidays import HolidayRule
from dispatch_tui.rules.schedule import Absence
from dispatch_tui.rules.workhours import WorkingHours
from dispatch_tui.services import audit
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.holidays import load_holiday_rules
from dispatch_tui.services.settings import (
    DEFAULT_TIMEZONE,
    TIMEZONE,
    ShopPolicy,
    parse_timezone,
    read_setting,
)
from dispatch_tui.store import queries
from dispatch_tui.store.core import connection_for
from dispatch_tui.store.models import OutOfOffice, Technician

#: The longest out-of-office period accepted, so range queries can bound their scan.
MAX_ABSENCE = timedelta(days=366)
#: Out-of-office rows one query returns at most.
ABSENCE_LIMIT = 200


class StaffTech(NamedTuple):
    """The columns of an active technician that availability questions read, as plain
    values: the ORM's entity loading cost more than the query on every screen refresh."""

    id: int
    name: str
    tier: int
    skills: str
    work_days: str
    work_start: str
    work_end: str


class HasHours(Protocol):
    name: str
    work_days: str
    work_start: str
    work_end: str


@dataclass(frozen=True)
class Staff:
    """The shop facts every availability question starts from, read once per transaction
    so a screen that asks several questions (the roster: loads and utilisation) reads
    them once and sees one snapshot."""

    zone: ZoneInfo
    #: A tuple, so ``rules.holidays.closed_dates`` can remember its answers.
    holidays: tuple[HolidayRule, ...]
    #: Active technicians by name, at most DEFAULT_LIMIT.
    techs: list[StaffTech]

    @property
    def tech_ids(self) -> list[int]:
        return [t.id or 0 for t in self.techs]


# Statements are built once and run on the session's connection as Core: building an
# ORM select and running it through the session cost about 0.2 ms a statement, several
# times what SQLite takes for these index reads (SQLAlchemy caches the compiled form).


def tech_ids_in(column: Any, count: int) -> ColumnElement[bool]:
    """``column IN`` ``count`` technician ids, one parameter each (``tech_id_params``).
    Statements that name the active technicians are built once per number of them: an
    expanding IN parameter is rendered into the SQL again at every run, which cost
    about as much as SQLite's part of these small reads, at every board refresh."""
    return col(column).in_([bindparam(f"tech{i}") for i in range(count)])


def tech_id_params(ids: list[int]) -> dict[str, int]:
    return {f"tech{i}": tech_id for i, tech_id in enumerate(ids)}


@lru_cache(maxsize=1)
def _staff_query() -> Select:
    return (
        select(*(getattr(Technician, name) for name in StaffTech._fields))
        .where(col(Technician.active).is_(True))
        .order_by(col(Technician.name))
        .limit(queries.DEFAULT_LIMIT)
    )


def read_staff(session: Session, policy: ShopPolicy | None = None) -> Staff:
    """The staff facts; ``policy`` when the caller has read the shop policy in this
    transaction already (the Dispatch screen), whose time zone and holidays are the
    same settings and rows, so they are not read twice."""
    conn = connection_for(session)
    techs = [StaffTech._make(row) for row in conn.execute(_staff_query())]
    if policy is not None:
        return Staff(policy.calendar.tz, policy.calendar.holiday_rules, techs)
    return Staff(read_zone(session), tuple(load_holiday_rules(session)), techs)


def read_zone(session: Session) -> ZoneInfo:
    """The shop's time zone, or the default when it is not set."""
    return parse_timezone(read_setting(session, TIMEZONE, DEFAULT_TIMEZONE))


def find_tech(session: Session, tech: str | int) -> Technician:
    found = queries.find_technician(session, str(tech))
    if found is None:
        raise NotFound(f"no technician {tech!r}")
    return found


def working_hours(tech: HasHours) -> WorkingHours:
    try:
        return _parsed_hours(tech.work_days, tech.work_start, tech.work_end)
    except ValueError as exc:
        raise InvalidInput(f"technician {tech.name} has unusable working hours: {exc}") from None


@lru_cache(maxsize=256)
def _parsed_hours(work_days: str, work_start: str, work_end: str) -> WorkingHours:
    # A pure function of the three stored strings (WorkingHours is frozen): a screen
    # refresh parsed every technician's hours once per question it asked.
    return WorkingHours.parse(work_days, work_start, work_end)


def absences(session: Session, tech_id: int, start: datetime, end: datetime) -> list[Absence]:
    """Out-of-office periods of one technician that overlap [start, end)."""
    rows = session.exec(
        select(OutOfOffice)
        .where(
            OutOfOffice.tech_id == tech_id,
            col(OutOfOffice.starts_at) < end,
            col(OutOfOffice.starts_at) >= start - MAX_ABSENCE,
            col(OutOfOffice.ends_at) > start,
        )
        .order_by(col(OutOfOffice.starts_at))
        .limit(ABSENCE_LIMIT)
    ).all()
    return [Absence(r.id or 0, r.starts_at, r.ends_at, r.reason) for r in rows]


def absences_by_tech(
    session: Session, tech_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[Absence]]:
    """``absences`` for several technicians in one query (a list per id, maybe empty).

    Same bounds on (tech_id, starts_at) as ``absences``, and the same earliest-first
    cap per technician. Should the one query reach its overall LIMIT (cap times
    technicians), one technician's rows could crowd out the next one's, so it falls
    back to a query per technician: same answer, only slower on such a table.
    """
    found: dict[int, list[Absence]] = {tech_id: [] for tech_id in tech_ids}
    if not tech_ids:
        return found
    limit = ABSENCE_LIMIT * len(tech_ids)
    params = {"start": start, "end": end, "since": start - MAX_ABSENCE, "n": limit}
    params.update(tech_id_params(tech_ids))
    rows = connection_for(session).execute(_absences_query(len(tech_ids)), params).all()
    if len(rows) >= limit:
        return {tech_id: absences(session, tech_id, start, end) for tech_id in tech_ids}
    for row_id, tech_id, starts_at, ends_at, reason in rows:
        mine = found[tech_id]
        if len(mine) < ABSENCE_LIMIT:
            mine.append(Absence(row_id or 0, starts_at, ends_at, reason))
    return found


def absences_within(
    wider: dict[int, list[Absence]],
    wider_start: datetime,
    wider_end: datetime,
    start: datetime,
    end: datetime,
) -> dict[int, list[Absence]] | None:
    """``absences_by_tech(ids, start, end)`` taken from ``wider``, that call's answer for
    [wider_start, wider_end), without a query: a screen asking about today and this
    week (the roster) reads the week once. None when it cannot be the same answer:
    [start, end) is not inside the wider window, or a technician reached the per-
    technician cap there, so the earliest-first cap might have cut different rows."""
    if not (wider_start <= start and end <= wider_end):
        return None
    if any(len(rows) >= ABSENCE_LIMIT for rows in wider.values()):
        return None
    # The same bounds as the query's, on rows the wider query found (its bounds are
    # looser on every side), in the same order.
    since = start - MAX_ABSENCE
    return {
        tech_id: [a for a in rows if a.start < end and a.start >= since and a.end > start]
        for tech_id, rows in wider.items()
    }


@lru_cache(maxsize=8)
def _absences_query(count: int) -> Select:
    return (
        select(
            OutOfOffice.id,
            OutOfOffice.tech_id,
            OutOfOffice.starts_at,
            OutOfOffice.ends_at,
            OutOfOffice.reason,
        )
        .where(
            tech_ids_in(OutOfOffice.tech_id, count),
            col(OutOfOffice.starts_at) < bindparam("end", type_=OutOfOffice.starts_at.type),
            col(OutOfOffice.starts_at) >= bindparam("since", type_=OutOfOffice.starts_at.type),
            col(OutOfOffice.ends_at) > bindparam("start", type_=OutOfOffice.ends_at.type),
        )
        .order_by(col(OutOfOffice.tech_id), col(OutOfOffice.starts_at))
        .limit(bindparam("n"))
    )


def set_working_hours(
    desk: Desk, tech: str | int, *, days: str, start: str, end: str
) -> Technician:
    """Set a technician's weekly hours (wall-clock, in the shop's time zone)."""
    try:
        hours = WorkingHours.parse(days, start, end)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    with desk.db.write() as session:
        row = find_tech(session, tech)
        fields = ("work_days", "work_start", "work_end")
        before = audit.snapshot(row, fields)
        row.work_days, row.work_start, row.work_end = hours.storage()
        session.add(row)
        session.flush()
        audit.record(
            session,
            desk.actor,
            "technician.hours",
            "technician",
            row.id,
            hours.describe(),
            before=before,
            after=audit.snapshot(row, fields),
        )
    return row


def add_out_of_office(
    desk: Desk, tech: str | int, start: datetime, end: datetime, *, reason: str = ""
) -> OutOfOffice:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("out-of-office times need a time zone")
    if end <= start:
        raise InvalidInput("out-of-office must end after it starts")
    if end - start > MAX_ABSENCE:
        raise InvalidInput("out-of-office longer than a year; mark the technician inactive instead")
    with desk.db.write() as session:
        row = find_tech(session, tech)
        away = OutOfOffice(
            tech_id=row.id or 0,
            starts_at=start.astimezone(UTC),
            ends_at=end.astimezone(UTC),
            reason=reason.strip(),
        )
        session.add(away)
        session.flush()
        audit.record(
            session,
            desk.actor,
            "out_of_office.create",
            "out_of_office",
            away.id,
            f"{row.name}: {reason.strip()}".rstrip(": "),
            after=audit.snapshot(away, ("tech_id", "starts_at", "ends_at", "reason")),
        )
    return away


def list_out_of_office(
    desk: Desk, start: datetime, end: datetime, *, tech: str | int | None = None
) -> list[OutOfOffice]:
    """Out-of-office periods overlapping [start, end), for the schedule's shading."""
    with desk.db.read() as session:
        query = select(OutOfOffice).where(
            col(OutOfOffice.starts_at) < end,
            col(OutOfOffice.starts_at) >= start - MAX_ABSENCE,
            col(OutOfOffice.ends_at) > start,
        )
        if tech is not None:
            query = query.where(OutOfOffice.tech_id == find_tech(session, tech).id)
        query = query.order_by(col(OutOfOffice.starts_at)).limit(ABSENCE_LIMIT)
        return list(session.exec(query).all())
