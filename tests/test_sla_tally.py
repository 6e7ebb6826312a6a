"""``sla_tally`` stays exact whoever writes the tickets (store/sla_tally.py), and
``cover`` splits any stretch into pieces whose signed counts add up to it.

The expected tally is counted here in Python from the ticket rows, not by the
store's own ``rebuild``, so a mistake shared by the triggers and the rebuild (both
are built from the same SQL pieces) would still show.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, delete, select, update

from dispatch_tui import demo
from dispatch_tui.services import Desk
from dispatch_tui.store import sla_tally
from dispatch_tui.store.core import execute_write
from dispatch_tui.store.models import SLA_CLOCKS, SLA_TALLY, Ticket

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)
_COLUMNS = (
    "created_at",
    "sla_policy",
    "sla_basis",
    "priority",
    *(column for _clock, event, due in SLA_CLOCKS for column in (event, due)),
)


def _expected(desk: Desk) -> Counter:
    table = Ticket.__table__
    with desk.db.read() as session:
        rows = session.connection().execute(select(*(table.c[c] for c in _COLUMNS))).all()
    counts: Counter = Counter()
    for created, policy, basis, priority, *clocks in rows:
        receipt = (policy or "", basis or "", priority or "")
        hour = created.replace(minute=0, second=0, microsecond=0)
        for key in (("h", hour, *receipt), ("d", hour.replace(hour=0), *receipt)):
            counts[(*key, "tickets")] += 1
            for (clock, _event, _due), event, due in zip(
                SLA_CLOCKS, clocks[::2], clocks[1::2], strict=True
            ):
                counts[(*key, f"{clock}_judged")] += due is not None
                counts[(*key, f"{clock}_met")] += (
                    event is not None and due is not None and event <= due
                )
                counts[(*key, f"{clock}_running")] += event is None and due is not None
    return +counts  # zero counts dropped


def _stored(desk: Desk) -> Counter:
    table = SLA_TALLY
    with desk.db.read() as session:
        rows = session.connection().execute(select(table)).mappings().all()
    counts: Counter = Counter()
    for row in rows:
        key = (row["grain"], row["starts_at"], row["sla_policy"], row["sla_basis"], row["priority"])
        for name in sla_tally.COUNTS:
            counts[(*key, name)] += row[name]
    assert all(n >= 0 for n in counts.values()), "a count went below zero"
    return +counts


def _assert_exact(desk: Desk) -> None:
    assert _stored(desk) == _expected(desk)


def test_the_demo_desk_is_counted_once_by_its_rebuild(desk: Desk) -> None:
    demo.generate(desk, tickets=400, now=NOW)
    _assert_exact(desk)
    assert _stored(desk)  # not two empty tallies


def test_the_tally_follows_orm_core_driver_and_deleting_writes(desk: Desk) -> None:
    demo.generate(desk, tickets=300, now=NOW)
    table = Ticket.__table__
    with desk.db.write() as session:  # the ORM: a new ticket, then an edit of another
        client_id = session.connection().execute(select(table.c.client_id)).scalar()
        session.add(Ticket(client_id=client_id, summary="new", created_at=NOW, updated_by="t"))
        ticket = session.get(Ticket, 5)
        ticket.priority = "critical"
        ticket.resolved_at = None
        ticket.respond_by = NOW - timedelta(hours=3)
    _assert_exact(desk)
    with desk.db.write() as session:  # Core: many rows at once, receipts and events
        session.connection().execute(
            update(table)
            .where(table.c.id % 7 == 0)
            .values(sla_policy="another", engaged_at=NOW, created_at=table.c.created_at)
        )
    _assert_exact(desk)
    with desk.db.write() as session:  # straight to the driver (store/core.py)
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(priority=bindparam("b_priority"), created_at=bindparam("b_created"))
        )
        for ticket_id in (3, 11, 12):
            moved = NOW - timedelta(days=ticket_id, minutes=ticket_id)
            execute_write(
                session, statement, {"b_id": ticket_id, "b_priority": None, "b_created": moved}
            )
    _assert_exact(desk)
    with desk.db.write() as session:  # deleting (a ticket nothing else points at)
        session.connection().execute(delete(table).where(table.c.summary == "new"))
    _assert_exact(desk)


def test_suspend_then_rebuild_and_resume_counts_a_bulk_load(desk: Desk) -> None:
    demo.generate(desk, tickets=200, now=NOW)
    table = Ticket.__table__
    with desk.db.write() as session:
        conn = session.connection()
        sla_tally.suspend(conn)
        conn.execute(update(table).values(priority="low", sla_basis="low"))
        sla_tally.rebuild(conn)
        sla_tally.resume(conn)
    _assert_exact(desk)
    with desk.db.write() as session:  # and the triggers are back
        session.connection().execute(update(table).values(priority=None))
    _assert_exact(desk)


# -- cover --------------------------------------------------------------------------

ZONES = ("UTC", "America/Chicago", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham")


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize("zone", ZONES)
def test_cover_adds_up_to_the_stretch_for_shop_midnights(zone: str) -> None:
    rng = random.Random(zone)
    arrivals = sorted(
        datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(200 * 86400))
        for _ in range(5000)
    )
    # Exact hour and day starts too: the bounds of pieces must be half-open.
    arrivals += [datetime(2026, 3, 8, h, tzinfo=UTC) for h in range(24)]
    for _ in range(40):
        first = date(2026, 1, 2) + timedelta(days=rng.randrange(150))
        start = _midnight(first, zone)
        end = _midnight(first + timedelta(days=rng.randrange(1, 40)), zone)
        pieces = sla_tally.cover(start, end)
        counted = sum(sign for t in arrivals for _grain, lo, hi, sign in pieces if lo <= t < hi)
        assert counted == sum(start <= t < end for t in arrivals)
        for grain, lo, hi, _sign in pieces:
            if grain == sla_tally.DAY:
                assert lo.time() == hi.time() == time()
            elif grain == sla_tally.HOUR:
                assert lo.minute == hi.minute == 0 and hi - lo <= timedelta(hours=12)
            else:
                assert hi - lo < timedelta(hours=1)
        whole_hours = zone in ("UTC", "America/Chicago")
        assert whole_hours == all(grain != sla_tally.ROWS for grain, *_ in pieces)


def test_cover_of_an_empty_or_short_stretch() -> None:
    at = datetime(2026, 5, 4, 10, 17, tzinfo=UTC)
    assert sla_tally.cover(at, at) == []
    pieces = sla_tally.cover(at, at + timedelta(minutes=20))
    signed = Counter()
    for grain, lo, hi, sign in pieces:
        signed[grain] += sign * (hi - lo).total_seconds()
    assert sum(signed.values()) == 20 * 60


def test_the_partial_indexes_are_partial_on_either_backend(desk: Desk) -> None:
    # The tables state the conditions for SQLite only; the PostgreSQL backend copies
    # them (store/models.py, ``share_partial_indexes``): a full index there would be
    # right but as large as the ticket table.
    from sqlalchemy import text

    names = ("ix_ticket_open_health", "ix_ticket_running_resolution")
    with desk.db.read() as session:
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
        else:
            query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
        found = {name: conn.execute(text(query), {"name": name}).scalar() for name in names}
    assert all(" WHERE " in (sql or "") for sql in found.values()), found
