"""The SLA report's counts in SQL: per stretch of arrivals and per priority, the
tickets whose met-by moments are current, and their met, pending and judged clocks.

Finished clocks do not change with the moment of the report, so they come from
``sla_tally`` (store/sla_tally.py): whole UTC days and hours, plus a few ticket rows
for a zone whose offset is not a whole number of hours. A running clock is pending or
missed depending on ``now``: those are counted from the ``ix_ticket_running_*``
indexes, which hold only the tickets whose clock runs. At a million tickets that is a
few hundred tally rows and about 4,700 index entries, where judging every arrival of
the report's eight weeks read 13,000 entries and cost 20 ms.

A ticket's moments are current when they were stamped under ``stamp`` (the policy in
force) for its priority (``sla_stamps``); the rest, ``uncounted``, are for the caller
to judge in Python. The two rules below are one rule, once for tally keys and once for
ticket rows, so every arrival is counted exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from sqlalchemy import and_, bindparam, func, literal_column, not_, or_, select, union_all
from sqlalchemy.engine import Connection

from dispatch_tui.rules.priority import PRIORITIES
from dispatch_tui.rules.sla_due import UNTRIAGED
from dispatch_tui.store import sla_tally
from dispatch_tui.store.core import fetch_counts
from dispatch_tui.store.models import SLA_CLOCKS, SLA_TALLY, Ticket

#: The priorities counted in SQL, then untriaged (None). A ticket with any other value
#: in its priority (a renamed policy entry) is judged in Python like an unstamped one.
BASES: tuple[str | None, ...] = (*PRIORITIES, None)
#: The basis number of a stretch's row that counts all of its arrivals.
ALL_ARRIVALS = -1

#: One row per stretch and basis: (stretch, basis, tickets, then per clock met,
#: pending and judged); the ALL_ARRIVALS row has only its tickets.
SumRow = tuple[int, ...]

_TICKET = Ticket.__table__  # type: ignore[attr-defined]
_MOMENT = _TICKET.c.created_at.type


def counted_basis(policy: str, basis: str, priority: str, stamp: str) -> int | None:
    """The index in BASES of a tally key counted in SQL, None if it is not (tally keys
    hold '' for a missing value, so a priority of '' reads as none)."""
    if policy != stamp:
        return None
    if priority == "":
        return len(PRIORITIES) if basis == UNTRIAGED else None
    if basis == priority and priority in PRIORITIES:
        return PRIORITIES.index(priority)
    return None


def uncounted(stamp: str):
    """Ticket rows ``counted_basis`` leaves out, as an SQL condition. Every column it
    tests is in ix_ticket_created, so only the rows that pass are read."""
    t = _TICKET.c
    priority = func.coalesce(t.priority, "")
    basis = func.coalesce(t.sla_basis, "")
    counted = and_(
        func.coalesce(t.sla_policy, "") == stamp,
        or_(
            and_(priority.in_(PRIORITIES), basis == priority),
            and_(priority == "", basis == UNTRIAGED),
        ),
    )
    return not_(counted)


def _sql_text(value: str):
    """A fixed word of this module as an SQL string constant (never user input)."""
    assert value.replace("_", "").isalnum()
    return literal_column(f"'{value}'")


@lru_cache(maxsize=32)
def _tally_sums(grains: tuple[str, ...]):
    """Per piece ``n`` (bounds ``lo<n>``, ``hi<n>``) of grain ``grains[n]``: its counts
    per receipt, from the tally or (``ROWS``) from ticket rows."""
    parts = []
    for n, grain in enumerate(grains):
        lo, hi = bindparam(f"lo{n}", type_=_MOMENT), bindparam(f"hi{n}", type_=_MOMENT)
        piece = literal_column(str(n))
        if grain == sla_tally.ROWS:
            t = _TICKET.c
            receipt = [func.coalesce(c, "") for c in (t.sla_policy, t.sla_basis, t.priority)]
            # The tally's own rule for a ticket's counts (store/sla_tally.py).
            sums = [func.sum(literal_column(sql)) for sql in sla_tally.contribution("ticket", "1")]
            parts.append(
                select(piece, *receipt, *sums)
                .where(t.created_at >= lo, t.created_at < hi)
                .group_by(*receipt)
            )
        else:
            c = SLA_TALLY.c
            receipt = [c.sla_policy, c.sla_basis, c.priority]
            parts.append(
                select(piece, *receipt, *(func.sum(c[name]) for name in sla_tally.COUNTS))
                .where(c.grain == _sql_text(grain), c.starts_at >= lo, c.starts_at < hi)
                .group_by(*receipt)
            )
    return union_all(*parts)


@lru_cache(maxsize=64)
def _pending(stretches: int, combos: tuple[tuple[int, int, int], ...]):
    """One row: per (stretch ``i``, basis ``j``, clock ``k``) of ``combos``, the current
    tickets whose clock still runs and is within target at ``now``. Each count is one
    range of the clock's ``ix_ticket_running_*`` index (stretch bounds ``lo<i>`` and
    ``hi<i>``), as a scalar subquery; only combinations the tally says have running
    clocks are asked, so a quiet desk asks few. Grouping the running clocks by a CASE
    over the bounds instead cost a microsecond per clock (3.3 against 1.4 ms for all
    160 combinations at a million tickets).

    The bounds, ``now`` and ``stamp`` are sent once, as the one row of a CTE the
    counts read: written into each count they would be hundreds of parameters to
    convert at every call."""
    given = select(
        bindparam("now", type_=_MOMENT).label("as_of"),
        bindparam("stamp", type_=_TICKET.c.sla_policy.type).label("stamp"),
        *(
            bindparam(f"{end}{i}", type_=_MOMENT).label(f"{end}{i}")
            for i in range(stretches)
            for end in ("lo", "hi")
        ),
    ).cte("given")
    t = _TICKET.c
    counts = []
    for i, j, k in combos:
        basis = BASES[j]
        _clock, event, due = SLA_CLOCKS[k]
        # '' reads as no priority, as in the tally's keys (``counted_basis``): its own
        # range, so each count stays one range of the index.
        priorities = (
            [t.priority.is_(None), t.priority == ""]
            if basis is None
            else [t.priority == _sql_text(basis)]
        )
        for priority in priorities:
            counts.append(
                select(func.count())
                .where(
                    t.sla_policy == given.c.stamp,
                    t.sla_basis == _sql_text(basis or UNTRIAGED),
                    priority,
                    t.created_at >= given.c[f"lo{i}"],
                    t.created_at < given.c[f"hi{i}"],
                    t[event].is_(None),
                    t[due].is_not(None),
                    t[due] >= given.c.as_of,
                )
                .scalar_subquery()
            )
    return select(*counts).select_from(given)


def stretch_sums(
    conn: Connection, stretches: Sequence[tuple[datetime, datetime]], stamp: str, now: datetime
) -> list[SumRow]:
    """Per stretch [start, end): its arrivals (an ALL_ARRIVALS row), then per basis of
    BASES with current tickets their count and clocks judged at ``now``."""
    # A bound shared by two stretches gives both the same edge piece: read it once.
    pieces: dict[tuple[str, datetime, datetime], list[tuple[int, int]]] = {}
    for i, (start, end) in enumerate(stretches):
        for grain, lo, hi, sign in sla_tally.cover(start, end):
            pieces.setdefault((grain, lo, hi), []).append((i, sign))
    keys = list(pieces)
    params: dict[str, object] = {}
    for n, (_grain, lo, hi) in enumerate(keys):
        params[f"lo{n}"], params[f"hi{n}"] = lo, hi
    arrivals = [0] * len(stretches)
    #: Per (stretch, basis): the tally's COUNTS, summed with their signs.
    counts: dict[tuple[int, int], list[int]] = {}
    if keys:
        rows = fetch_counts(conn, _tally_sums(tuple(g for g, _lo, _hi in keys)), params)
        for n, policy, basis, priority, *sums in rows:
            j = counted_basis(policy, basis, priority, stamp)
            for i, sign in pieces[keys[n]]:
                arrivals[i] += sign * sums[0]
                if j is not None:
                    total = counts.setdefault((i, j), [0] * len(sums))
                    for m, value in enumerate(sums):
                        total[m] += sign * value
    clocks = len(SLA_CLOCKS)
    combos = tuple(
        (i, j, k)
        for (i, j), total in sorted(counts.items())
        for k in range(clocks)
        if total[1 + 2 * clocks + k]
    )
    pending: dict[tuple[int, int, int], int] = {}
    if combos:
        asked: dict[str, object] = {"now": now, "stamp": stamp}
        for i, (start, end) in enumerate(stretches):
            asked[f"lo{i}"], asked[f"hi{i}"] = start, end
        (found,) = fetch_counts(conn, _pending(len(stretches), combos), asked)
        counted = iter(found)
        for combo in combos:
            # Untriaged has two counts (no priority, and ''), see ``_pending``.
            pending[combo] = next(counted) + (next(counted) if BASES[combo[1]] is None else 0)
    result: list[SumRow] = [(i, ALL_ARRIVALS, n) for i, n in enumerate(arrivals)]
    for (i, j), (tickets, *sums) in sorted(counts.items()):
        row = [tickets]
        for k in range(clocks):
            met, judged = sums[2 * k], sums[2 * k + 1]
            row += [met, pending.get((i, j, k), 0), judged]
        result.append((i, j, *row))
    return result
