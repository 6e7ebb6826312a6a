"""Keeping ``sla_tally`` (store/models.py, ``SLA_TALLY``) exact, and covering a stretch of
time with its rows.

Triggers on ``ticket`` move each ticket's contribution from the tally rows of its old
values to those of its new ones, inside the writing transaction. So the tally is as
current as the tickets for every reader, whichever program wrote: an ORM save, a Core
update (``store/core.execute_write`` skips the ORM's hooks), another dispatcher's
process on the shared file, a shop's own SQL. The trigger on updates fires only when a
column the tally reads changed, so an ordinary edit (status, notes, assignment) pays
nothing.

Each ticket counts in two rows: its UTC hour and its UTC day of arrival. A report
period is bounded by midnights of the shop's zone, which fall inside UTC days;
``cover`` sums whole days, then adds or takes away the hours between each bound and the
UTC midnight nearest it (at most twelve), and reads ticket rows only for a zone whose
offset is not a whole number of hours (India, Nepal: under an hour of arrivals).

Bulk loads into an empty file (the demo generator) ``suspend`` the triggers and
``resume`` them after one ``rebuild`` in the same transaction: one GROUP BY instead of
a trigger call per row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection

from dispatch_tui.store.models import SLA_CLOCKS

#: The grains of the tally rows, and the pseudo-grain of a stretch read from tickets.
HOUR, DAY, ROWS = "h", "d", "r"
#: Ticket columns the tally reads: a change to any other fires no trigger.
WATCHED = (
    "created_at",
    "sla_policy",
    "sla_basis",
    "priority",
    *(column for _clock, event, due in SLA_CLOCKS for column in (event, due)),
)
#: The tally's count columns, in the order every statement here lists them: tickets,
#: then met and judged per clock, then running per clock.
COUNTS = (
    "tickets",
    *(f"{clock}_{kind}" for clock, _event, _due in SLA_CLOCKS for kind in ("met", "judged")),
    *(f"{clock}_running" for clock, _event, _due in SLA_CLOCKS),
)
_KEY = ("grain", "starts_at", "sla_policy", "sla_basis", "priority")
_TRIGGERS = ("sla_tally_insert", "sla_tally_delete", "sla_tally_update")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_STEPS = {DAY: timedelta(days=1), HOUR: timedelta(hours=1)}


def _bucket(dialect: str, grain: str, moment: str) -> str:
    """SQL for the start of the hour or day of ``moment``, as the column stores it."""
    if dialect == "postgresql":
        return f"date_trunc('{'hour' if grain == HOUR else 'day'}', {moment})"
    # SQLite holds times as text "YYYY-MM-DD HH:MM:SS.ffffff" (store/types.py).
    if grain == HOUR:
        return f"substr({moment}, 1, 13) || ':00:00.000000'"
    return f"substr({moment}, 1, 10) || ' 00:00:00.000000'"


def contribution(row: str, sign: str) -> list[str]:
    """SQL for one ticket's counts in COUNTS order (``row`` is NEW or OLD, or the
    ticket table's name or alias), times ``sign``."""
    values = [sign]
    for _clock, event, due in SLA_CLOCKS:
        # A comparison with a NULL event is not true: a clock still running is not met.
        values.append(f"CASE WHEN {row}.{event} <= {row}.{due} THEN {sign} ELSE 0 END")
        values.append(f"CASE WHEN {row}.{due} IS NOT NULL THEN {sign} ELSE 0 END")
    for _clock, event, due in SLA_CLOCKS:
        running = f"{row}.{event} IS NULL AND {row}.{due} IS NOT NULL"
        values.append(f"CASE WHEN {running} THEN {sign} ELSE 0 END")
    return values


def _receipt(row: str) -> list[str]:
    return [f"coalesce({row}.{name}, '')" for name in ("sla_policy", "sla_basis", "priority")]


def _upsert(dialect: str, grain: str, row: str, sign: str) -> str:
    values = [f"'{grain}'", _bucket(dialect, grain, f"{row}.created_at"), *_receipt(row)]
    values += contribution(row, sign)
    added = ", ".join(f"{c} = sla_tally.{c} + excluded.{c}" for c in COUNTS)
    return (
        f"INSERT INTO sla_tally ({', '.join((*_KEY, *COUNTS))}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {added}"
    )


def _moves(dialect: str, row: str, sign: str) -> str:
    return "".join(f"{_upsert(dialect, grain, row, sign)}; " for grain in (HOUR, DAY))


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    return [
        f"CREATE TRIGGER sla_tally_insert AFTER INSERT ON ticket "
        f"BEGIN {_moves('sqlite', 'NEW', '1')}END",
        f"CREATE TRIGGER sla_tally_delete AFTER DELETE ON ticket "
        f"BEGIN {_moves('sqlite', 'OLD', '-1')}END",
        f"CREATE TRIGGER sla_tally_update AFTER UPDATE OF {', '.join(WATCHED)} ON ticket "
        f"WHEN {changed} BEGIN {_moves('sqlite', 'OLD', '-1')}"
        f"{_moves('sqlite', 'NEW', '1')}END",
    ]


def _postgres_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    body = (
        "BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_moves('postgresql', 'OLD', '-1')}END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_moves('postgresql', 'NEW', '1')}END IF; "
        "RETURN NULL; END"
    )
    run = "FOR EACH ROW EXECUTE FUNCTION sla_tally_count()"
    return [
        "CREATE OR REPLACE FUNCTION sla_tally_count() RETURNS trigger LANGUAGE plpgsql "
        f"AS $tally$ {body} $tally$",
        f"CREATE TRIGGER sla_tally_insert AFTER INSERT ON ticket {run}",
        f"CREATE TRIGGER sla_tally_delete AFTER DELETE ON ticket {run}",
        f"CREATE TRIGGER sla_tally_update AFTER UPDATE OF {', '.join(WATCHED)} ON ticket "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION sla_tally_count()",
    ]


def resume(conn: Connection) -> None:
    """Create the triggers (again): safe to run when they exist."""
    suspend(conn)
    dialect = conn.dialect.name
    for statement in _postgres_triggers() if dialect == "postgresql" else _sqlite_triggers():
        conn.execute(text(statement))


def suspend(conn: Connection) -> None:
    """Drop the triggers, inside the caller's transaction: until ``resume`` (and a
    ``rebuild``) the tally no longer follows the tickets."""
    on = " ON ticket" if conn.dialect.name == "postgresql" else ""
    for name in _TRIGGERS:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}{on}"))


def rebuild(conn: Connection) -> None:
    """Count every ticket afresh: the hours from the tickets, the days from the hours."""
    dialect = conn.dialect.name
    columns = ", ".join((*_KEY, *COUNTS))
    sums = ", ".join(f"sum({value})" for value in contribution("t", "1"))
    receipt = ", ".join(_receipt("t"))
    conn.execute(text("DELETE FROM sla_tally"))
    conn.execute(
        text(
            f"INSERT INTO sla_tally ({columns}) "
            f"SELECT '{HOUR}', {_bucket(dialect, HOUR, 't.created_at')}, {receipt}, {sums} "
            "FROM ticket t GROUP BY 2, 3, 4, 5"
        )
    )
    conn.execute(
        text(
            f"INSERT INTO sla_tally ({columns}) "
            f"SELECT '{DAY}', {_bucket(dialect, DAY, 'starts_at')}, "
            f"sla_policy, sla_basis, priority, {', '.join(f'sum({c})' for c in COUNTS)} "
            f"FROM sla_tally WHERE grain = '{HOUR}' GROUP BY 2, 3, 4, 5"
        )
    )


def _nearest(moment: datetime, grain: str) -> datetime:
    step = _STEPS[grain]
    floor = moment - (moment - _EPOCH) % step
    return floor if moment - floor <= step / 2 else floor + step


Piece = tuple[str, datetime, datetime, int]


def cover(start: datetime, end: datetime) -> list[Piece]:
    """Pieces (grain, start, end, sign) whose signed counts add up to the arrivals in
    [start, end): whole UTC days, then the hours between each bound and its nearest
    UTC midnight, then (offsets that are not whole hours) the minutes between each
    bound and its nearest hour, read from ticket rows (grain ``ROWS``)."""
    pieces: list[Piece] = []
    if end <= start:
        return pieces

    def add(grain: str, lo: datetime, hi: datetime, sign: int) -> None:
        if lo != hi:
            pieces.append((grain, lo, hi, sign) if lo < hi else (grain, hi, lo, -sign))

    day_lo, day_hi = _nearest(start, DAY), _nearest(end, DAY)
    hour_lo, hour_hi = _nearest(start, HOUR), _nearest(end, HOUR)
    # [start, end) = [day_lo, day_hi) - [day_lo, start) + [day_hi, end), and each of
    # those edges is its whole hours plus the rest.
    add(DAY, day_lo, day_hi, 1)
    add(HOUR, day_lo, hour_lo, -1)
    add(ROWS, hour_lo, start, -1)
    add(HOUR, day_hi, hour_hi, 1)
    add(ROWS, hour_hi, end, 1)
    return pieces
