"""The SLA clock: targets for first response, engagement and resolution, counted in
business time (the shop's working hours, in its time zone, minus holidays and pauses).

Pure functions over plain values. Every datetime in and out is timezone-aware;
the calendar converts each working day's wall-clock window to real instants, so
a business minute is a minute that really elapsed inside working hours. On the
day clocks change, a window that spans the change is an hour shorter (spring
forward) or longer (fall back); the usual 08:00-17:00 day spans neither and
stays nine hours, but a night that loses or gains an hour costs nothing.

Default targets (business hours; configurable per shop, setting ``sla_targets``):

| priority  | first response | engagement | resolution |
| --------- | -------------- | ---------- | ---------- |
| critical  | 1              | 1          | 4          |
| high      | 1              | 2          | 8          |
| medium    | 1              | 4          | 24         |
| low       | 1              | 8          | 40         |
| quick_hit | 1              | 8          | 16         |

First response is one business hour everywhere: it measures triage, and a fast
triage is what makes the later targets hold (see shared/domain.md). Engagement
and resolution grow with priority: a critical is worked at once and fixed within
half a day; a low waits up to a day to be picked up and a working week to close.
Quick hits are small, so they resolve faster than lows even though they wait as long.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from dispatch_tui.rules.holidays import HolidayRule, closed_dates
from dispatch_tui.rules.workhours import DAY_NAMES

#: Weekday names, Monday first: the same vocabulary as technicians' working days.
WEEKDAYS = DAY_NAMES
MINUTES_PER_DAY = 24 * 60

#: Give up looking for working time after this many days: a calendar that is
#: closed for years is a configuration mistake, not a reason to loop forever.
HORIZON_DAYS = 366 * 5

#: A working window as minutes after local midnight; the end may be 1440 ("24:00").
Window = tuple[int, int]
#: A pause of the clock; ``None`` as end means still paused.
Pause = tuple[datetime, datetime | None]

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)


def parse_hhmm(value: str) -> int:
    """'08:30' -> 510 minutes after midnight; '24:00' is allowed as the end of a day."""
    try:
        hours_text, minutes_text = value.strip().split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except (AttributeError, ValueError):
        raise ValueError(f"not a time of day {value!r}; use HH:MM, e.g. 08:00") from None
    if not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise ValueError(f"not a time of day {value!r}; use HH:MM between 00:00 and 24:00")
    return hours * 60 + minutes


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_window(start: str, end: str) -> Window:
    window = (parse_hhmm(start), parse_hhmm(end))
    if window[0] >= window[1]:
        raise ValueError(f"working hours {start}-{end} end before they start")
    return window


DEFAULT_HOURS: tuple[Window | None, ...] = ((480, 1020),) * 5 + (None, None)


@dataclass(frozen=True)
class BusinessCalendar:
    """When the shop works: time zone, a window per weekday (Monday first), holidays.

    ``hours[i]`` is ``(start, end)`` in minutes after local midnight, or None when
    the shop is closed that weekday. Holidays are single dates and/or HolidayRules
    (the same rules the scheduler uses, expanded by ``holidays.holiday_dates``).
    """

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    hours: tuple[Window | None, ...] = DEFAULT_HOURS
    holidays: frozenset[date] = frozenset()
    holiday_rules: tuple[HolidayRule, ...] = ()

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise ValueError("working hours need one entry per weekday, Monday first")
        for name, window in zip(WEEKDAYS, self.hours, strict=True):
            if window is None:
                continue
            start, end = window
            if not (0 <= start < end <= MINUTES_PER_DAY):
                raise ValueError(
                    f"working hours on {name} must lie within one day, start before end"
                )
        if all(window is None for window in self.hours):
            raise ValueError("the shop must work on at least one weekday")

    @classmethod
    def from_names(
        cls,
        tz: str | ZoneInfo,
        hours: Mapping[str, tuple[str, str] | list[str] | None] | None = None,
        holidays: Iterable[date | HolidayRule] = (),
    ) -> BusinessCalendar:
        """Build from readable values: ``{"mon": ("08:00", "17:00"), "sat": None}``.

        Weekdays missing from ``hours`` are closed; ``hours=None`` means the default.
        """
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        windows: tuple[Window | None, ...] = DEFAULT_HOURS
        if hours is not None:
            unknown = sorted(set(hours) - set(WEEKDAYS))
            if unknown:
                raise ValueError(f"unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}")
            built: list[Window | None] = []
            for day in WEEKDAYS:
                value = hours.get(day)
                if value is None:
                    built.append(None)
                    continue
                if len(value) != 2:
                    raise ValueError(f"working hours on {day} need a start and an end")
                built.append(parse_window(value[0], value[1]))
            windows = tuple(built)
        days = frozenset(h for h in holidays if isinstance(h, date))
        rules = tuple(h for h in holidays if isinstance(h, HolidayRule))
        return cls(tz=zone, hours=windows, holidays=days, holiday_rules=rules)

    def __hash__(self) -> int:
        # The window cache hashes the calendar on every lookup (thousands per report or
        # health check) and its fields never change: hash them once per calendar.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.tz, self.hours, self.holidays, self.holiday_rules))
            object.__setattr__(self, "_hash", cached)
        return cached

    def is_closed(self, day: date) -> bool:
        if self.hours[day.weekday()] is None or day in self.holidays:
            return True
        return bool(self.holiday_rules) and day in closed_dates(
            self.holiday_rules, date(day.year, 1, 1), date(day.year, 12, 31)
        )

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local date as UTC instants, or None when closed."""
        # Every load of the policy builds an equal but new calendar; the window cache
        # then compares it field by field on every lookup. Looking up with one shared
        # instance per distinct calendar makes each lookup an identity match.
        shared = self.__dict__.get("_shared")
        if shared is None:
            shared = _shared_calendar(self)
            object.__setattr__(self, "_shared", shared)
        return _cached_window(shared, day)

    def _build_window(self, day: date) -> tuple[datetime, datetime] | None:
        if self.is_closed(day):
            return None
        start, end = self.hours[day.weekday()]  # type: ignore[misc] - checked by is_closed
        return self._instant(day, start), self._instant(day, end)

    def _instant(self, day: date, minutes: int) -> datetime:
        # Build the wall-clock time, then convert: zoneinfo resolves a time that does
        # not exist (spring forward) or exists twice (fall back) with fold=0, i.e.
        # the offset in force before the change.
        if minutes == MINUTES_PER_DAY:
            day, minutes = day + timedelta(days=1), 0
        local = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=self.tz)
        return local.astimezone(UTC)

    def windows_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC) that end after ``start``, clipped to begin at it, in order."""
        start = _aware(start, "start").astimezone(UTC)
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(HORIZON_DAYS):
            window = self.window(day)
            day += timedelta(days=1)
            if window is None or window[1] <= start:
                continue
            yield max(window[0], start), window[1]


@lru_cache(maxsize=64)
def _shared_calendar(calendar: BusinessCalendar) -> BusinessCalendar:
    return calendar


@lru_cache(maxsize=8192)
def _cached_window(calendar: BusinessCalendar, day: date) -> tuple[datetime, datetime] | None:
    # A queue refresh walks the same recent days for every ticket; building each
    # day's window once (zone conversion, holiday lookup) makes that walk cheap.
    return calendar._build_window(day)


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime; the clock needs time-zone-aware times")
    return moment


def _normalise_pauses(pauses: Iterable[Pause]) -> list[tuple[datetime, datetime]]:
    """Sorted, merged UTC intervals; an open pause runs to the far future."""
    spans: list[tuple[datetime, datetime]] = []
    for begin, end in pauses:
        begin = _aware(begin, "pause start").astimezone(UTC)
        end = _FAR_FUTURE if end is None else _aware(end, "pause end").astimezone(UTC)
        if end > begin:
            spans.append((begin, end))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _running(
    start: datetime, calendar: BusinessCalendar, pauses: Iterable[Pause]
) -> Iterator[tuple[datetime, datetime]]:
    """The stretches from ``start`` on during which the clock runs: working, not paused."""
    spans = _normalise_pauses(pauses)
    for begin, end in calendar.windows_from(start):
        cursor = begin
        for p_begin, p_end in spans:
            if p_end <= cursor or p_begin >= end:
                continue
            if p_begin > cursor:
                yield cursor, p_begin
            cursor = max(cursor, p_end)
            if cursor >= end:
                break
        if cursor < end:
            yield cursor, end


def business_minutes_between(
    start: datetime,
    end: datetime,
    calendar: BusinessCalendar,
    pauses: Sequence[Pause] = (),
) -> float:
    """Business minutes from ``start`` to ``end``; negative when ``end`` is earlier.

    Signed so that "minutes left" = between(now, due) turns negative once a
    target is missed, without a separate overdue branch in every caller.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end < start:
        return -business_minutes_between(end, start, calendar, pauses)
    total = 0.0
    for begin, finish in _running(start, calendar, pauses):
        if begin >= end:
            break
        total += (min(finish, end) - begin).total_seconds()
    return total / 60


def add_business_minutes(
    start: datetime,
    minutes: float,
    calendar: BusinessCalendar,
    pauses: Sequence[Pause] = (),
) -> datetime:
    """The moment ``minutes`` of business time after ``start`` (UTC): a due moment.

    A target that ends exactly at closing time is due at closing, not next morning.
    Raises ValueError when no such moment exists (e.g. the clock is paused for good).
    """
    if minutes < 0:
        raise ValueError("business minutes to add cannot be negative")
    start = _aware(start, "start").astimezone(UTC)
    if minutes == 0:
        return start
    remaining = timedelta(minutes=minutes)
    for begin, end in _running(start, calendar, pauses):
        length = end - begin
        if remaining <= length:
            return begin + remaining
        remaining -= length
    raise ValueError(
        f"no business time left within {HORIZON_DAYS // 366} years; the clock is paused "
        "or the calendar is closed"
    )


# -- targets -------------------------------------------------------------------------


class Clock(StrEnum):
    FIRST_RESPONSE = "first_response"
    ENGAGEMENT = "engagement"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Targets:
    """Business minutes allowed for each clock, counted from when the ticket arrived."""

    first_response: int
    engagement: int
    resolution: int

    def __post_init__(self) -> None:
        for clock in Clock:
            value = getattr(self, clock.value)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"SLA target {clock.value} must be a whole number of minutes > 0")

    def minutes(self, clock: Clock) -> int:
        return getattr(self, clock.value)


DEFAULT_TARGETS: dict[str, Targets] = {
    "critical": Targets(first_response=60, engagement=60, resolution=4 * 60),
    "high": Targets(first_response=60, engagement=2 * 60, resolution=8 * 60),
    "medium": Targets(first_response=60, engagement=4 * 60, resolution=24 * 60),
    "low": Targets(first_response=60, engagement=8 * 60, resolution=40 * 60),
    "quick_hit": Targets(first_response=60, engagement=8 * 60, resolution=16 * 60),
}


@dataclass(frozen=True)
class SlaPolicy:
    targets: Mapping[str, Targets] = field(default_factory=lambda: dict(DEFAULT_TARGETS))

    def __post_init__(self) -> None:
        missing = [p for p in DEFAULT_TARGETS if p not in self.targets]
        if missing:
            raise ValueError(f"SLA targets missing for priority {missing[0]!r}")

    def untriaged_first_response(self) -> int:
        # Before triage nobody knows the priority, and any new ticket may be a
        # critical: hold it to the strictest first-response target.
        return min(t.first_response for t in self.targets.values())


@dataclass(frozen=True)
class TicketTimes:
    """What the clock needs from a ticket. ``priority`` None means not yet triaged.

    ``pauses`` stop the resolution clock (waiting on the client); an open pause
    (end None) means the ticket waits on the client now.
    """

    created_at: datetime
    priority: str | None = None
    first_response_at: datetime | None = None
    engaged_at: datetime | None = None
    resolved_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True)
class ClockState:
    clock: Clock
    target_minutes: int
    elapsed_minutes: float
    #: Business minutes before the breach; negative once breached.
    minutes_left: float
    #: When it breaches (UTC), or None while the clock is paused indefinitely.
    due_at: datetime | None
    paused: bool

    @property
    def breached(self) -> bool:
        return self.minutes_left < 0


def _is_paused(pauses: Sequence[Pause], now: datetime) -> bool:
    return any(begin <= now and (end is None or end > now) for begin, end in pauses)


def running_clocks(
    ticket: TicketTimes,
    now: datetime,
    calendar: BusinessCalendar,
    policy: SlaPolicy | None = None,
    *,
    with_due: bool = True,
) -> list[ClockState]:
    """Each clock still running for the ticket (its event has not happened yet).

    Before triage only first response runs: the other targets depend on a priority
    nobody has set. Only resolution pauses, as the issue and practice have it:
    waiting on the client does not excuse a late first response or engagement.

    ``with_due=False`` leaves ``due_at`` None: finding the breach moment walks the
    calendar once more per clock, and a queue that only sorts by time left (the
    dispatch board) would spend two thirds of its clock time on moments it never shows.
    """
    policy = policy or SlaPolicy()
    states: list[ClockState] = []
    if ticket.priority is None:
        wanted = [
            (Clock.FIRST_RESPONSE, policy.untriaged_first_response(), ticket.first_response_at)
        ]
    else:
        targets = policy.targets.get(ticket.priority) or policy.targets["medium"]
        wanted = [
            (Clock.FIRST_RESPONSE, targets.first_response, ticket.first_response_at),
            (Clock.ENGAGEMENT, targets.engagement, ticket.engaged_at),
            (Clock.RESOLUTION, targets.resolution, ticket.resolved_at),
        ]
    elapsed_by_pauses: dict[tuple[Pause, ...], float] = {}
    for clock, target, done_at in wanted:
        if done_at is not None:
            continue
        pauses = ticket.pauses if clock is Clock.RESOLUTION else ()
        if pauses not in elapsed_by_pauses:
            elapsed_by_pauses[pauses] = business_minutes_between(
                ticket.created_at, now, calendar, pauses
            )
        elapsed = elapsed_by_pauses[pauses]
        paused = bool(pauses) and _is_paused(pauses, now)
        due: datetime | None = None
        # While an open pause holds the clock, the breach has no date yet (and
        # searching years ahead for one would only burn time).
        if with_due and not (paused and any(end is None for _, end in pauses)):
            try:
                due = add_business_minutes(ticket.created_at, target, calendar, pauses)
            except ValueError:
                due = None
        states.append(ClockState(clock, target, elapsed, target - elapsed, due, paused))
    return states


def next_breach(
    ticket: TicketTimes, now: datetime, calendar: BusinessCalendar, policy: SlaPolicy | None = None
) -> ClockState | None:
    """The running clock with the least business time left, or None when all are met."""
    states = running_clocks(ticket, now, calendar, policy)
    return min(states, key=lambda s: s.minutes_left) if states else None


def minutes_to_breach(
    ticket: TicketTimes, now: datetime, calendar: BusinessCalendar, policy: SlaPolicy | None = None
) -> float | None:
    """Business minutes before the ticket's next breach (negative when breached), or
    None when no clock runs. Queues sort on it, None last."""
    # The breach moments are not needed for the minutes: skip their calendar walks.
    states = running_clocks(ticket, now, calendar, policy, with_due=False)
    return min(s.minutes_left for s in states) if states else None


def minutes_to_breach_many(
    tickets: Sequence[TicketTimes],
    now: datetime,
    calendar: BusinessCalendar,
    policy: SlaPolicy | None = None,
) -> list[float | None]:
    """``minutes_to_breach`` of each ticket, in order, with one calendar walk for all.

    A queue refresh asks for every ticket at the same ``now``: each ticket's clock
    walked the same working windows again (about 20 microseconds a ticket on the
    dispatch board). Here the windows from the oldest ticket to ``now`` are built
    once, and each ticket sums its share of them in the same order and with the same
    float operations as ``business_minutes_between``, so the figures are the same to
    the last bit. Tickets the shared walk does not cover (paused ones, arrivals
    after ``now``, clocks older than the calendar horizon) take the one-ticket path.
    """
    policy = policy or SlaPolicy()
    # In UTC: two times in one zone subtract as wall clocks, across a DST change too.
    now = _aware(now, "now").astimezone(UTC)
    results: list[float | None] = [None] * len(tickets)
    plain: list[int] = []
    arrivals: list[datetime] = []
    # windows_from looks HORIZON_DAYS days on from the arrival's local date, less one.
    horizon = now - timedelta(days=HORIZON_DAYS - 2)
    for i, ticket in enumerate(tickets):
        created = _aware(ticket.created_at, "start").astimezone(UTC)
        arrivals.append(created)
        if not ticket.pauses and horizon < created <= now:
            plain.append(i)
        else:
            results[i] = minutes_to_breach(ticket, now, calendar, policy)
    if not plain:
        return results
    earliest = min(arrivals[i] for i in plain)
    # Every working window that ends after the earliest arrival and begins before now.
    begins: list[datetime] = []
    ends: list[datetime] = []
    seconds: list[float] = []
    for begin, end in calendar.windows_from(earliest):
        if begin >= now:
            break
        begins.append(begin)
        ends.append(end)
        seconds.append((min(end, now) - begin).total_seconds())
    for i in plain:
        ticket = tickets[i]
        targets = _running_targets(ticket, policy)
        if not targets:
            continue
        created = arrivals[i]
        first = bisect_right(ends, created)
        total = 0.0
        if first < len(ends):
            begin = max(begins[first], created)
            if begin < now:
                # The arrival's own window is clipped at the arrival; the rest are whole
                # (or clipped at now, as built), added in order as the one-ticket walk does.
                total += (min(ends[first], now) - begin).total_seconds()
                for k in range(first + 1, len(seconds)):
                    total += seconds[k]
        elapsed = total / 60
        results[i] = min(target - elapsed for target in targets)
    return results


def _running_targets(ticket: TicketTimes, policy: SlaPolicy) -> list[int]:
    """The targets of the clocks still running, as ``running_clocks`` chooses them."""
    if ticket.priority is None:
        if ticket.first_response_at is not None:
            return []
        return [policy.untriaged_first_response()]
    targets = policy.targets.get(ticket.priority) or policy.targets["medium"]
    return [
        target
        for target, done_at in (
            (targets.first_response, ticket.first_response_at),
            (targets.engagement, ticket.engaged_at),
            (targets.resolution, ticket.resolved_at),
        )
        if done_at is None
    ]
