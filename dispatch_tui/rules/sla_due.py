"""When each SLA clock stops being met: one instant per clock, decided once. Pure.

A clock is met when its event came within the target's business minutes of the
ticket's arrival (rules/sla_outcome.py). From a fixed arrival, business time only
grows with the end moment, so the events that meet a target are exactly those at or
before one instant, the clock's *met-by* moment (PSAs call them respond-by and
resolve-by). With it the outcome needs no calendar: met when ``done <= met_by``,
missed when ``done > met_by`` or, still running, ``now > met_by``, else pending. SQL
can then count outcomes with ``GROUP BY`` (services/reports.py).

The met-by moment is the *latest* instant still within target, not the moment the
target runs out: a target that runs out at closing time 17:00 is still met by an
answer at 18:00 (as ``outcome`` has it), so its met-by moment is the next opening.

Met-by moments depend on the arrival, the priority and the shop's policy (targets,
working hours, time zone, holidays). A stored set carries the priority it was
derived for (``basis``) and a fingerprint of the policy (``policy_stamp``), so a
reader can tell a stale one from a current one without trusting every writer.
Arithmetic is in whole microseconds, as the stored times are, so it is exact; the
float minutes of ``outcome`` can misjudge an event that lands exactly on its target
(2400.000000000001 > 2400), which this cannot.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dispatch_tui.rules.sla import BusinessCalendar, SlaPolicy, add_business_minutes
from dispatch_tui.rules.sla_outcome import Outcome

#: The basis of a ticket not triaged yet: judged on first response only, on the
#: strictest target (see ``SlaPolicy.untriaged_first_response``).
UNTRIAGED = "untriaged"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def _moment(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True)
class SlaDue:
    """The met-by moments of one ticket, and what they were derived from."""

    basis: str
    policy: str
    respond_by: datetime
    #: None before triage: only first response is judged then.
    engage_by: datetime | None = None
    resolve_by: datetime | None = None


def judge(done_at: datetime | None, due: datetime, now: datetime) -> Outcome:
    """The outcome of a clock from its met-by moment; the SQL in services/reports.py
    counts the same three cases."""
    if done_at is not None:
        return Outcome.MET if done_at <= due else Outcome.MISSED
    return Outcome.MISSED if now > due else Outcome.PENDING


def policy_stamp(sla: SlaPolicy, calendar: BusinessCalendar) -> str:
    """A short fingerprint of everything a met-by moment depends on besides the ticket.

    Stable across processes and machines (no ``hash()``); holiday names are left out,
    renaming a holiday moves no deadline.
    """
    rules = sorted((str(r.day), r.rrule or "") for r in calendar.holiday_rules)
    text = repr(
        (
            calendar.tz.key,
            calendar.hours,
            sorted(calendar.holidays),
            rules,
            sorted(
                (name, t.first_response, t.engagement, t.resolution)
                for name, t in sla.targets.items()
            ),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def met_by(start: datetime, minutes: int, calendar: BusinessCalendar) -> datetime:
    """The latest moment at which no more than ``minutes`` business minutes have run
    since ``start``, by walking the calendar."""
    remaining = timedelta(minutes=minutes)
    for begin, end in calendar.windows_from(start):
        # Running out exactly at a window's end: still met until the next one opens.
        if remaining < end - begin:
            return begin + remaining
        remaining -= end - begin
    raise ValueError("the calendar has no business time left for this target")


class DueTimeline:
    """``met_by`` by lookup, for many tickets over the same span (the demo, a backfill).

    The span's working windows are laid out once with running totals in whole
    microseconds; each ticket is then two binary searches. Outside the span it walks.
    """

    def __init__(self, calendar: BusinessCalendar, start: datetime, end: datetime) -> None:
        self.calendar = calendar
        self._first = _us(start)
        self._starts: list[int] = []
        self._before: list[int] = []
        self._after: list[int] = []
        total = 0
        cursor = start
        # windows_from looks ahead at most HORIZON_DAYS (5 years) per call; a long
        # history (the 100k demo spans 13 years) is laid out by resuming it where
        # the last window ended, else most tickets would fall back to the walk.
        while cursor < end:
            resumed = cursor
            for begin, finish in calendar.windows_from(cursor):
                if begin >= end:
                    cursor = end
                    break
                self._starts.append(_us(begin))
                self._before.append(total)
                total += _us(finish) - _us(begin)
                self._after.append(total)
                cursor = finish
            if cursor == resumed:
                break  # closed for the whole horizon: tickets beyond it walk

    def met_by(self, start: datetime, minutes: int) -> datetime:
        at = _us(start)
        if at < self._first:
            return met_by(start, minutes, self.calendar)
        i = bisect_right(self._starts, at) - 1
        ran = 0
        if i >= 0:
            ran = self._before[i] + min(at - self._starts[i], self._after[i] - self._before[i])
        target = ran + minutes * _US_PER_MINUTE
        # The first window whose running total passes the target holds the moment; a
        # target reached exactly at a window's end lands on the next window's start.
        j = bisect_right(self._after, target)
        if j >= len(self._starts):
            return met_by(start, minutes, self.calendar)
        return _moment(self._starts[j] + target - self._before[j])

    def due(self, start: datetime, minutes: int) -> datetime:
        """``rules.sla.add_business_minutes(start, minutes, calendar)`` by lookup: the
        *earliest* moment ``minutes`` business minutes have run, so a target running out
        exactly at closing time is due at closing (``met_by`` answers the next opening).
        Outside the span, or for no minutes at all, it asks the calendar walk itself."""
        at = _us(start)
        if at < self._first or minutes <= 0:
            return add_business_minutes(start, minutes, self.calendar)
        i = bisect_right(self._starts, at) - 1
        ran = 0
        if i >= 0:
            ran = self._before[i] + min(at - self._starts[i], self._after[i] - self._before[i])
        target = ran + minutes * _US_PER_MINUTE
        # The first window whose running total reaches the target holds the moment.
        j = bisect_left(self._after, target)
        if j >= len(self._starts):
            return add_business_minutes(start, minutes, self.calendar)
        return _moment(self._starts[j] + target - self._before[j])


def sla_due(
    created_at: datetime,
    priority: str | None,
    sla: SlaPolicy,
    stamp: str,
    timeline: DueTimeline,
) -> SlaDue:
    """The met-by moments of a ticket that arrived at ``created_at`` with ``priority``
    (None: not triaged), under the policy whose fingerprint is ``stamp``."""
    if priority is None:
        return SlaDue(UNTRIAGED, stamp, timeline.met_by(created_at, sla.untriaged_first_response()))
    # An unknown priority (a renamed policy entry) is judged as medium, as reports do.
    targets = sla.targets.get(priority) or sla.targets["medium"]
    return SlaDue(
        priority,
        stamp,
        timeline.met_by(created_at, targets.first_response),
        timeline.met_by(created_at, targets.engagement),
        timeline.met_by(created_at, targets.resolution),
    )


def timeline_for(calendar: BusinessCalendar, first: datetime, last: datetime) -> DueTimeline:
    """A timeline long enough for tickets that arrived between ``first`` and ``last``:
    a few months past the last arrival covers any usual target; longer ones walk."""
    return DueTimeline(calendar, first, last + timedelta(days=120))
