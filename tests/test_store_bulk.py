"""Bulk inserts must store exactly what the ORM stores, or reads would differ by path."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from dispatch_tui.store import Database
from dispatch_tui.store.bulk import bulk_insert
from dispatch_tui.store.models import Client, Holiday, Ticket


def test_bulk_rows_read_back_like_orm_rows(db: Database) -> None:
    moment = datetime(2026, 10, 25, 1, 30, 15, 250, tzinfo=timezone(timedelta(hours=2)))
    with db.write() as session:
        session.add(Client(name="Acme"))
        session.flush()
        session.add(Ticket(client_id=1, summary="orm", created_at=moment, escalated=True))
        written = bulk_insert(
            session,
            Ticket,
            [
                {
                    "client_id": 1,
                    "summary": "bulk",
                    "created_at": moment,
                    "updated_at": moment,
                    "escalated": True,
                }
            ],
        )
        bulk_insert(session, Holiday, [{"name": "Day", "day": date(2026, 12, 25)}])
    assert written == 1
    with db.read() as session:
        orm_row, bulk_row = session.get(Ticket, 1), session.get(Ticket, 2)
        raw = (
            session.connection().exec_driver_sql("SELECT created_at FROM ticket ORDER BY id").all()
        )
        holiday = session.get(Holiday, 1)
    assert raw[0] == raw[1]
    assert bulk_row.created_at == orm_row.created_at == moment.astimezone(UTC)
    assert bulk_row.escalated is True and bulk_row.status == "new" and bulk_row.version == 1
    assert holiday.day == date(2026, 12, 25)


def test_a_demo_desk_keeps_every_index_it_deferred(db: Database) -> None:
    from sqlalchemy import inspect

    from dispatch_tui import demo
    from dispatch_tui.services.desk import Desk

    tables = ("ticket", "note", "service_call", "time_entry")

    def indexes() -> dict[str, set[str]]:
        with db.read() as session:
            found = inspect(session.connection())
            return {t: {i["name"] for i in found.get_indexes(t)} for t in tables}

    before = indexes()
    assert all(before.values())
    demo.generate(Desk(db, "tester"), tickets=300)
    assert indexes() == before
