"""The shop's holidays: single dates and yearly rules, shared by the SLA clock and the schedule."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from sqlmodel import Session, col, select

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules.holidays import HolidayRule, validate_rrule
from dispatch_tui.services import audit
from dispatch_tui.services.desk import Desk
from dispatch_tui.store.core import Executor, connection_for
from dispatch_tui.store.models import Holiday

#: A shop has a dozen holidays a year; this bound only guards against a runaway import.
MAX_HOLIDAYS = 1000


#: Built once, and plain columns rather than Holiday objects: the policy (and so this)
#: is read inside every triage's write lock, where both showed in profiles.
_RULES = (
    select(Holiday.name, Holiday.day, Holiday.rrule).order_by(col(Holiday.id)).limit(MAX_HOLIDAYS)
)


def load_holiday_rules(session: Session) -> list[HolidayRule]:
    """Every holiday row as a rule for ``rules.holidays.holiday_dates``."""
    return [rule(name, day, rrule) for name, day, rrule in holiday_rows(session)]


def holiday_rows(session: Executor) -> tuple[tuple[str, date | None, str | None], ...]:
    """Every holiday row's stored values (name, day, rrule), in id order: what the
    rules are built from, so a caller can remember what it builds keyed by them."""
    # connection_for flushes first, so a holiday added earlier in the same transaction
    # is seen; the statement is built once (see _RULES).
    rows = connection_for(session).execute(_RULES).all()
    return tuple((name, day, rrule) for name, day, rrule in rows)


@lru_cache(maxsize=MAX_HOLIDAYS)
def rule(name: str, day: date | None, rrule: str | None) -> HolidayRule:
    # A HolidayRule is frozen and a pure function of its row's values, but building one
    # validates its RRULE (a parse): remembered by value, so an edited row is a new key.
    return HolidayRule(name, day=day, rrule=rrule)


def add_holiday(
    desk: Desk, name: str, *, day: date | None = None, rrule: str | None = None
) -> Holiday:
    name = name.strip()
    if not name:
        raise InvalidInput("a holiday needs a name")
    if (day is None) == (rrule is None):
        raise InvalidInput("give a holiday exactly one of a date or a recurrence rule")
    if rrule is not None:
        rrule = rrule.strip()
        try:
            validate_rrule(rrule)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    with desk.db.write() as session:
        holiday = Holiday(name=name, day=day, rrule=rrule)
        session.add(holiday)
        session.flush()
        audit.record(
            session,
            desk.actor,
            "holiday.create",
            "holiday",
            holiday.id,
            name,
            after=audit.snapshot(holiday, ("name", "day", "rrule")),
        )
    # A holiday moves SLA deadlines: restamp what the dashboard reads (sla_stamps).
    from dispatch_tui.services import sla_stamps

    sla_stamps.restamp_recent(desk)
    return holiday


def list_holidays(desk: Desk) -> list[Holiday]:
    with desk.db.read() as session:
        return list(
            session.exec(
                select(Holiday).order_by(col(Holiday.day), col(Holiday.name)).limit(MAX_HOLIDAYS)
            ).all()
        )
