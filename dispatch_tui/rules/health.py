"""Desk health checks: pure functions over plain rows and ``now``, no database.

Each check has a stable id (scripts and monitoring key on it), a title, and returns a
``CheckResult`` with the count of offenders and their ticket ids. The services feed
the checks with rows an SQL pre-filter already narrowed (see services/health.py), but
every check re-tests its whole condition, so it is correct on any rows it is given.

Decisions, so every screen and script agrees on them:

- **Activity** on a ticket is the latest of ``ticket.updated_at`` (every service that
  changes the ticket bumps it), its latest note (a threaded e-mail reply or a
  technician's note may leave the ticket row untouched) and its latest time entry
  (logged work). Audit events are not read: each change to a ticket already bumps
  ``updated_at`` in the same transaction, so they would add a scan and nothing else.
- **A business day** is the length of the shop's usual working day (the most common
  window in its week, 9 hours for 08:00-17:00), counted on the SLA clock: "2 business
  days without activity" is reached when 2 x 9 business hours have run, so nights,
  weekends and holidays never count. Reaching the threshold exactly counts.
- **Past a target** means strictly past, as ``sla.ClockState.breached`` has it.
- **No note after a day of work**: a ticket engaged at least a business day ago with
  no note written since it was engaged; the dispatcher's triage note does not count,
  it is the technician's notes the dispatcher checks.
- **Resolution pauses**: the file keeps no history of waiting periods, so a ticket
  waiting on the client now counts as paused since its last change (the move to
  waiting bumped ``updated_at``); earlier waits are not deducted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dispatch_tui.rules.sla import (
    HORIZON_DAYS,
    BusinessCalendar,
    SlaPolicy,
    add_business_minutes,
    business_minutes_between,
)
from dispatch_tui.rules.sla_due import DueTimeline
from dispatch_tui.rules.utilization import FLAG_TEXT, Flag, Thresholds, classify

OPEN = frozenset(
    {"new", "triaged", "assigned", "in_progress", "waiting_client", "waiting_vendor", "on_hold"}
)
WAITING = ("waiting_client", "waiting_vendor")

#: Check ids in the order a report lists them. Stable: scripts and monitors key on them.
TITLES: dict[str, str] = {
    "untriaged_past_first_response": "Untriaged tickets older than the first-response target",
    "waiting_no_activity": "Waiting tickets with no activity",
    "booked_no_future_call": "Booked tickets with no future service call",
    "on_hold_no_future_due": "On-hold tickets without a future due date",
    "large_not_booked": "Large tickets not booked as a service call",
    "past_resolution_target": "Tickets past their resolution target",
    "escalated_untouched": "Escalated tickets untouched",
    "resolved_without_resolution_note": "Resolved tickets without a resolution note",
    "no_notes_after_a_day": "Tickets with no note after a day of work",
    "time_entries_pending_approval": "Time entries waiting for approval",
    "technician_utilization": "Technicians overworked or far below target this week",
}
CHECK_IDS: tuple[str, ...] = tuple(TITLES)


@dataclass(frozen=True)
class HealthThresholds:
    """The levels each check uses; shops override them (setting ``health_thresholds``)."""

    waiting_business_days: float = 2.0
    #: "More than 4 hours" should be a booked service call.
    large_estimate_hours: float = 4.0
    escalated_business_days: float = 1.0
    note_business_days: float = 1.0
    utilization: Thresholds = field(default_factory=Thresholds)
    #: Judge utilisation only once this many working hours of the week have passed:
    #: on Monday morning everyone is "far below target".
    utilization_min_hours: float = 8.0
    #: Ticket ids a result keeps; the count is always complete.
    max_ids: int = 1000

    def __post_init__(self) -> None:
        for name in (
            "waiting_business_days",
            "large_estimate_hours",
            "escalated_business_days",
            "note_business_days",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"health threshold {name} must be a number above 0")
        if self.utilization_min_hours < 0 or self.max_ids < 0:
            raise ValueError("health thresholds cannot be negative")


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    count: int
    ticket_ids: tuple[int, ...] = ()
    detail: str = ""
    #: Technician names, for the one check about people rather than tickets.
    technicians: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return self.count == 0


@dataclass(frozen=True)
class HealthContext:
    """What the clock-based checks need from the shop."""

    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)


# Slotted rather than frozen: the health checks build one per candidate row (thousands
# per refresh), and a frozen dataclass's __init__ costs ~9x a slotted one's (2.6 against
# 0.3 us). Nothing changes them after they are built.
@dataclass(slots=True)
class TicketFacts:
    """One ticket as the checks see it; a query fills what its check needs."""

    id: int
    status: str
    created_at: datetime
    updated_at: datetime
    priority: str | None = None
    estimate_hours: float | None = None
    due_at: datetime | None = None
    escalated: bool = False
    engaged_at: datetime | None = None
    resolved_at: datetime | None = None
    last_note_at: datetime | None = None
    last_time_entry_at: datetime | None = None
    service_calls: int = 0
    last_call_end: datetime | None = None
    has_resolution_note: bool = False
    notes_since_engaged: int = 0

    @property
    def last_activity(self) -> datetime:
        moments = [self.updated_at, self.last_note_at, self.last_time_entry_at]
        return max(m for m in moments if m is not None)


@dataclass(slots=True)  # slotted, not frozen: one per ticket with pending time (see above)
class PendingTime:
    """Unapproved time entries on one ticket."""

    ticket_id: int
    entries: int
    hours: float


@dataclass(frozen=True)
class TechWeek:
    """A technician's billable hours and the working hours available so far this week."""

    tech: str
    billable_hours: float
    available_hours: float


# -- the business-day yardstick ---------------------------------------------------------


def business_day_minutes(calendar: BusinessCalendar) -> int:
    """The shop's usual working day in minutes: the most common window length (longest on ties)."""
    lengths = Counter(window[1] - window[0] for window in calendar.hours if window is not None)
    return max(lengths.items(), key=lambda item: (item[1], item[0]))[0]


def business_days_passed(
    start: datetime, now: datetime, days: float, calendar: BusinessCalendar
) -> bool:
    """Whether ``days`` business days have run from ``start`` to ``now`` (reaching counts).

    Adding the target to the start walks only the target's own windows, cheaper than
    measuring a months-old ticket's whole history.
    """
    if start > now:
        return False
    return add_business_minutes(start, days * business_day_minutes(calendar), calendar) <= now


#: What latest_start answers when not even the whole horizon holds enough business time.
FAR_PAST = datetime(1900, 1, 1, tzinfo=UTC)


def latest_start(now: datetime, minutes: float, calendar: BusinessCalendar) -> datetime:
    """The latest start from which ``minutes`` business minutes have run by ``now``.

    ``add_business_minutes(s, minutes, calendar) <= now`` exactly when
    ``s <= latest_start(now, minutes, calendar)``: the due moment never moves earlier
    as its start moves later, so one instant splits every start in two. A check then
    compares each ticket to that instant (and SQL can, on an index) instead of walking
    the calendar once per ticket. It walks the windows back from ``now``, in the same
    exact timedelta arithmetic as ``add_business_minutes``.
    """
    if minutes <= 0:
        return now
    now = now.astimezone(UTC)
    remaining = timedelta(minutes=minutes)
    day = now.astimezone(calendar.tz).date() + timedelta(days=1)
    for _ in range(HORIZON_DAYS):
        window = calendar.window(day)
        day -= timedelta(days=1)
        if window is None or window[0] >= now:
            continue
        begin, end = window[0], min(window[1], now)
        if remaining <= end - begin:
            return end - remaining
        remaining -= end - begin
    return FAR_PAST


def business_days_cutoff(now: datetime, days: float, calendar: BusinessCalendar) -> datetime:
    """The latest moment from which ``days`` business days have run by ``now``:
    ``business_days_passed(s, now, days, calendar)`` is ``s <= this``."""
    return latest_start(now, days * business_day_minutes(calendar), calendar)


def resolution_cutoff(now: datetime, minutes: int, calendar: BusinessCalendar) -> datetime:
    """The latest arrival whose resolution target is strictly past at ``now``:
    ``add_business_minutes(c, minutes) < now`` is ``c <= this``. Due moments fall on
    whole microseconds, so strictly before ``now`` is at or before now - 1 µs."""
    return latest_start(now - timedelta(microseconds=1), minutes, calendar)


# -- collecting results -----------------------------------------------------------------


def _result(check_id: str, ids: Iterable[int], ctx: HealthContext) -> CheckResult:
    kept: list[int] = []
    count = 0
    for ticket_id in ids:
        count += 1
        if len(kept) < ctx.thresholds.max_ids:
            kept.append(ticket_id)
    text = detail(check_id, ctx) if count else ""
    return CheckResult(check_id, TITLES[check_id], count, tuple(kept), text)


def merge(results: Iterable[CheckResult], max_ids: int) -> CheckResult:
    """One result from the results of the same check over several batches of rows."""
    parts = list(results)
    ids = tuple(i for part in parts for i in part.ticket_ids)[:max_ids]
    first = parts[0]
    return CheckResult(
        first.id,
        first.title,
        sum(p.count for p in parts),
        ids,
        next((p.detail for p in reversed(parts) if p.detail), ""),
        tuple(t for p in parts for t in p.technicians),
    )


def _days(value: float) -> str:
    return f"{value:g} business day" + ("" if value == 1 else "s")


def detail(check_id: str, ctx: HealthContext) -> str:
    """The line a ticket check shows under its count (when it has offenders)."""
    t = ctx.thresholds
    match check_id:
        case "untriaged_past_first_response":
            return f"waiting over {ctx.sla.untriaged_first_response()} business minutes for triage"
        case "waiting_no_activity":
            return f"no note, time or change for {_days(t.waiting_business_days)}"
        case "booked_no_future_call":
            return "every service call is in the past; book the next visit or close it"
        case "on_hold_no_future_due":
            return "due date missing or past"
        case "large_not_booked":
            return f"estimated over {t.large_estimate_hours:g} hours with no service call"
        case "past_resolution_target":
            return "open beyond the resolution target for their priority"
        case "escalated_untouched":
            return f"no note, time or change for {_days(t.escalated_business_days)}"
        case "resolved_without_resolution_note":
            return "resolved, but nobody wrote down how"
        case "no_notes_after_a_day":
            return f"engaged {_days(t.note_business_days)} ago or more, no note since"
    raise KeyError(check_id)


def counted(check_id: str, count: int, ids: Iterable[int], ctx: HealthContext) -> CheckResult:
    """A ticket check's result from offenders already counted exactly elsewhere (in SQL,
    on the same conditions as the check over rows): ``ids`` are the first of them, kept
    up to ``max_ids``; the same title and detail as the check over rows gives."""
    kept = tuple(ids)[: ctx.thresholds.max_ids]
    text = detail(check_id, ctx) if count else ""
    return CheckResult(check_id, TITLES[check_id], count, kept, text)


def pending_approval(
    tickets: int, entries: int, hours: float, ids: Iterable[int], ctx: HealthContext
) -> CheckResult:
    """``time_entries_pending_approval`` from totals counted elsewhere (in SQL)."""
    check_id = "time_entries_pending_approval"
    text = f"{entries} entries, {hours:g} hours to approve" if tickets else ""
    kept = tuple(ids)[: ctx.thresholds.max_ids]
    return CheckResult(check_id, TITLES[check_id], tickets, kept, text)


# -- ticket checks ----------------------------------------------------------------------


def untriaged_past_first_response(
    rows: Iterable[TicketFacts], now: datetime, ctx: HealthContext
) -> CheckResult:
    # Before triage any ticket may be a critical: the strictest target applies.
    target = ctx.sla.untriaged_first_response()
    ids = (
        r.id
        for r in rows
        if r.status == "new" and business_minutes_between(r.created_at, now, ctx.calendar) > target
    )
    return _result("untriaged_past_first_response", ids, ctx)


def waiting_no_activity(
    rows: Iterable[TicketFacts], now: datetime, ctx: HealthContext
) -> CheckResult:
    days = ctx.thresholds.waiting_business_days
    cutoff = business_days_cutoff(now, days, ctx.calendar)
    ids = (r.id for r in rows if r.status in WAITING and r.last_activity <= cutoff)
    return _result("waiting_no_activity", ids, ctx)


def booked_no_future_call(
    rows: Iterable[TicketFacts], now: datetime, ctx: HealthContext
) -> CheckResult:
    # A call under way (started, not ended) still counts as booked ahead.
    ids = (
        r.id
        for r in rows
        if r.status in OPEN
        and r.service_calls > 0
        and (r.last_call_end is None or r.last_call_end <= now)
    )
    return _result("booked_no_future_call", ids, ctx)


def on_hold_no_future_due(
    rows: Iterable[TicketFacts], now: datetime, ctx: HealthContext
) -> CheckResult:
    ids = (r.id for r in rows if r.status == "on_hold" and (r.due_at is None or r.due_at <= now))
    return _result("on_hold_no_future_due", ids, ctx)


def large_not_booked(rows: Iterable[TicketFacts], now: datetime, ctx: HealthContext) -> CheckResult:
    hours = ctx.thresholds.large_estimate_hours
    ids = (
        r.id
        for r in rows
        if r.status in OPEN
        and r.estimate_hours is not None
        and r.estimate_hours > hours
        and r.service_calls == 0
    )
    return _result("large_not_booked", ids, ctx)


def past_resolution_target(
    rows: Iterable[TicketFacts],
    now: datetime,
    ctx: HealthContext,
    timeline: DueTimeline | None = None,
) -> CheckResult:
    """``timeline``, when given, answers the stopped clocks' due moments by lookup (the
    same moments as the calendar walk, see ``DueTimeline.due``)."""
    cutoffs: dict[int, datetime] = {}

    def breached(r: TicketFacts) -> bool:
        if r.status not in OPEN or r.priority is None or r.resolved_at is not None:
            return False
        targets = ctx.sla.targets.get(r.priority) or ctx.sla.targets["medium"]
        # Waiting on the client stops the resolution clock (see the module docstring).
        until = min(now, r.updated_at) if r.status == "waiting_client" else now
        if until <= r.created_at:
            return False
        if until < now:
            # Business time never runs faster than the wall clock, so a clock stopped
            # within its target's minutes of wall time cannot be late (most stopped
            # clocks: work went to the client soon after it arrived), and no calendar
            # need be asked.
            if until - r.created_at <= timedelta(minutes=targets.resolution):
                return False
            if timeline is not None:
                return timeline.due(r.created_at, targets.resolution) < until
            return add_business_minutes(r.created_at, targets.resolution, ctx.calendar) < until
        # Most tickets run to now: one cutoff per target, not a calendar walk per ticket.
        if targets.resolution not in cutoffs:
            cutoffs[targets.resolution] = resolution_cutoff(now, targets.resolution, ctx.calendar)
        return r.created_at <= cutoffs[targets.resolution]

    ids = (r.id for r in rows if breached(r))
    return _result("past_resolution_target", ids, ctx)


def escalated_untouched(
    rows: Iterable[TicketFacts], now: datetime, ctx: HealthContext
) -> CheckResult:
    days = ctx.thresholds.escalated_business_days
    cutoff = business_days_cutoff(now, days, ctx.calendar)
    ids = (r.id for r in rows if r.escalated and r.status in OPEN and r.last_activity <= cutoff)
    return _result("escalated_untouched", ids, ctx)


def resolved_without_resolution_note(
    rows: Iterable[TicketFacts], now: datetime, ctx: HealthContext
) -> CheckResult:
    # Only tickets still 'resolved': once closed the dispatcher can no longer chase it.
    ids = (r.id for r in rows if r.status == "resolved" and not r.has_resolution_note)
    return _result("resolved_without_resolution_note", ids, ctx)


def no_notes_after_a_day(
    rows: Iterable[TicketFacts], now: datetime, ctx: HealthContext
) -> CheckResult:
    days = ctx.thresholds.note_business_days
    cutoff = business_days_cutoff(now, days, ctx.calendar)
    ids = (
        r.id
        for r in rows
        if r.status in OPEN
        and r.engaged_at is not None
        and r.notes_since_engaged == 0
        and r.engaged_at <= cutoff
    )
    return _result("no_notes_after_a_day", ids, ctx)


#: The checks over ticket rows, by id; each takes (rows, now, ctx).
TicketCheck = Callable[[Iterable[TicketFacts], datetime, HealthContext], CheckResult]
TICKET_CHECKS: dict[str, TicketCheck] = {
    "untriaged_past_first_response": untriaged_past_first_response,
    "waiting_no_activity": waiting_no_activity,
    "booked_no_future_call": booked_no_future_call,
    "on_hold_no_future_due": on_hold_no_future_due,
    "large_not_booked": large_not_booked,
    "past_resolution_target": past_resolution_target,
    "escalated_untouched": escalated_untouched,
    "resolved_without_resolution_note": resolved_without_resolution_note,
    "no_notes_after_a_day": no_notes_after_a_day,
}


# -- time and people --------------------------------------------------------------------


def time_entries_pending_approval(rows: Iterable[PendingTime], ctx: HealthContext) -> CheckResult:
    """Counts tickets (the list opens tickets); the detail says how many entries and hours."""
    ids: list[int] = []
    count = entries = 0
    hours = 0.0
    for row in rows:
        if row.entries <= 0:
            continue
        count += 1
        entries += row.entries
        hours += row.hours
        if len(ids) < ctx.thresholds.max_ids:
            ids.append(row.ticket_id)
    detail = f"{entries} entries, {hours:g} hours to approve" if count else ""
    check_id = "time_entries_pending_approval"
    return CheckResult(check_id, TITLES[check_id], count, tuple(ids), detail)


def technician_utilization(rows: Iterable[TechWeek], ctx: HealthContext) -> CheckResult:
    """Technicians at or above the high level, or below the low one, on the week so far."""
    thresholds = ctx.thresholds
    flagged: list[str] = []
    notes: list[str] = []
    for row in rows:
        if row.available_hours < thresholds.utilization_min_hours:
            continue
        ratio, flag = classify(row.billable_hours, row.available_hours, thresholds.utilization)
        if flag in (Flag.HIGH, Flag.LOW) and ratio is not None:
            flagged.append(row.tech)
            notes.append(f"{row.tech} {ratio:.0%} ({FLAG_TEXT[flag]})")
    check_id = "technician_utilization"
    return CheckResult(
        check_id, TITLES[check_id], len(flagged), (), "; ".join(notes), tuple(flagged)
    )
