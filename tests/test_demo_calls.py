"""The demo books its service calls as a careful dispatcher would: no clash of any kind.

Checked with the same conflict check the Schedule screen books with, so a demo call
that would be refused on screen fails here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select

from dispatch_tui import demo
from dispatch_tui.demo_calls import DemoCallBook
from dispatch_tui.rules.schedule import Absence
from dispatch_tui.rules.workhours import WorkingHours
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.schedule import _conflicts
from dispatch_tui.services.settings import load_policy
from dispatch_tui.store import Database
from dispatch_tui.store.models import ServiceCall, Technician

CHICAGO = ZoneInfo("America/Chicago")
WEEKDAYS_9_TO_5 = WorkingHours.parse("mon,tue,wed,thu,fri", "09:00", "17:00")
MONDAY = date(2030, 11, 25)
SATURDAY = MONDAY - timedelta(days=2)


def local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO).astimezone(UTC)


def book_for(**overrides) -> DemoCallBook:
    settings = {
        "zone": CHICAGO,
        "first": SATURDAY,
        "last": SATURDAY + timedelta(days=6),
        "length": timedelta(hours=4),
        "hours": {1: WEEKDAYS_9_TO_5},
        "holidays": {},
        "absences": {},
    }
    settings.update(overrides)
    return DemoCallBook(**settings)


def test_calls_fill_the_shift_one_after_another_then_roll_to_the_next_day() -> None:
    book = book_for()
    monday = MONDAY
    assert book.book(1, local(monday, 9)) == local(monday, 9)
    assert book.book(1, local(monday, 9)) == local(monday, 13)
    assert book.book(1, local(monday, 9)) == local(monday + timedelta(days=1), 9)


def test_weekends_holidays_and_absences_are_skipped() -> None:
    monday = MONDAY
    tuesday, wednesday = monday + timedelta(days=1), monday + timedelta(days=2)
    book = book_for(
        first=monday,
        last=monday + timedelta(days=4),
        holidays={wednesday: "Founders' Day"},
        absences={1: [Absence(1, local(monday, 0), local(tuesday, 23), "training")]},
    )
    thursday = wednesday + timedelta(days=1)
    assert book.book(1, local(SATURDAY, 9)) == local(thursday, 9)
    assert book.book(1, local(monday, 9)) == local(thursday, 13)


def test_a_full_window_books_nothing_rather_than_double_booking() -> None:
    monday = MONDAY
    book = book_for(first=monday, last=monday)
    assert [book.book(1, local(monday, 0)) for _ in range(3)] == [
        local(monday, 9),
        local(monday, 13),
        None,
    ]


def test_every_demo_call_passes_the_schedule_screens_own_conflict_check(tmp_path: Path) -> None:
    database = Database(tmp_path / "demo.db", create=True)
    try:
        summary = demo.generate(Desk(database, "tester"), tickets=3000)
        assert summary.service_calls > 0
        with database.read() as session:
            zone = load_policy(session).calendar.tz
            techs = {t.id: t for t in session.exec(select(Technician)).all()}
            calls = session.exec(select(ServiceCall)).all()
            clashes = {
                call.id: [c.message for c in conflicts]
                for call in calls
                if (
                    conflicts := _conflicts(
                        session, zone, techs[call.tech_id], call.starts_at, call.ends_at, call.id
                    )
                )
            }
        assert clashes == {}
    finally:
        database.dispose()
