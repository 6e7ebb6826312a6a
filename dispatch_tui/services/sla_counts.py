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

from sqlalchemy import and_, bindparam, case, func, literal_column, not_, or_, select, union_all
from sqlalchemy.engine import Connection

from dispatch_tui.rules.priority import PRIORITIES
from dispatch_tui.rules.sla_due import UNTRIAGED
from dispatch_tui.store import sla_tally
from dispatch_tui.store.models import SLA_CLOCKS, SlaTally, Ticket

#: The priorities counted in SQL, then untriaged (None). A ticket with any other value
#: in its priority (a renamed policy entry) is judged in Python like an unstamped one.
BASES: tuple[str | None, ...] = (*PRIORITIES, None)
#: The basis number of a stretch's row that counts all of its arrivals.
ALL_ARRIVALS = -1

#: One row per stretch and basis: (stretch, basis, tickets, then per clock met,
#: pending and judged); the ALL_ARRIVALS row has only its tickets.
SumRow = tuple[int, int, int, *tuple[int | None, ...]]

_TICKET = Ticket.__table__  # type: ignore[attr-defined]
_TALLY = SlaTally.__table__  # type: ignore[attr-defined]
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
            sums = [func.count()]
            for _clock, event, due in SLA_CLOCKS:
                met = case((t[event] <= t[due], literal_column("1")), else_=literal_column("0"))
                sums += [func.sum(met), func.count(t[due])]
            parts.append(
                select(piece, *receipt, *sums)
                .where(t.created_at >= lo, t.created_at < hi)
                .group_by(*receipt)
            )
        else:
            c = _TALLY.c
            receipt = [c.sla_policy, c.sla_basis, c.priority]
            parts.append(
                select(piece, *receipt, *(func.sum(c[name]) for name in sla_tally.COUNTS))
                .where(c.grain == _sql_text(grain), c.starts_at >= lo, c.starts_at < hi)
                .group_by(*receipt)
            )
    return union_all(*parts)


@lru_cache(maxsize=16)
def _running(stretches: int):
    """Per basis ``j`` and clock ``k``, one row: (j, k, then per stretch ``i`` with
    bounds ``lo<i>`` and ``hi<i>``) the current tickets whose clock still runs and is
    within target at ``now`` (pending). Each count is one range of the clock's
    ``ix_ticket_running_*`` index, as a scalar subquery: grouping the pending clocks
    by a CASE over the bounds instead cost a microsecond per clock (3.3 against
    1.4 ms at a million tickets).

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
    parts = []
    for j, basis in enumerate(BASES):
        priority = t.priority.is_(None) if basis is None else t.priority == _sql_text(basis)
        for k, (_clock, event, due) in enumerate(SLA_CLOCKS):
            if basis is None and k:
                continue  # untriaged: only the first response is judged
            counts = [
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
                for i in range(stretches)
            ]
            parts.append(
                select(literal_column(str(j)), literal_column(str(k)), *counts).select_from(given)
            )
    return union_all(*parts)


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
    counts: dict[tuple[int, int], list[int]] = {}
    if keys:
        rows = conn.execute(_tally_sums(tuple(g for g, _lo, _hi in keys)), params).all()
        for n, policy, basis, priority, tickets, *sums in rows:
            j = counted_basis(policy, basis, priority, stamp)
            for i, sign in pieces[keys[n]]:
                arrivals[i] += sign * tickets
                if j is not None:
                    total = counts.setdefault((i, j), [0] * (1 + len(sums)))
                    for m, value in enumerate((tickets, *sums)):
                        total[m] += sign * (value or 0)
    pending: dict[tuple[int, int, int], int] = {}
    if stretches:
        running = {"now": now, "stamp": stamp}
        for i, (start, end) in enumerate(stretches):
            running[f"lo{i}"], running[f"hi{i}"] = start, end
        for j, k, *per_stretch in conn.execute(_running(len(stretches)), running).all():
            for i, n in enumerate(per_stretch):
                if n:
                    pending[i, j, k] = n
                    counts.setdefault((i, j), [0] * (1 + 2 * len(SLA_CLOCKS)))
    result: list[SumRow] = [(i, ALL_ARRIVALS, n) for i, n in enumerate(arrivals)]
    for (i, j), (tickets, *sums) in sorted(counts.items()):
        clocks: list[int] = []
        for k in range(len(SLA_CLOCKS)):
            met, judged = sums[2 * k], sums[2 * k + 1]
            clocks += [met, pending.get((i, j, k), 0), judged]
        result.append((i, j, tickets, *clocks))
    return result
