"""The periods the dashboard reports over, as shop-local dates (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class PeriodChoice:
    key: str
    label: str


#: In the order the period key cycles through them.
PERIODS: tuple[PeriodChoice, ...] = (
    PeriodChoice("week", "This week"),
    PeriodChoice("4w", "Last 4 weeks"),
    PeriodChoice("quarter", "This quarter"),
)
DEFAULT_PERIOD = "4w"
_BY_KEY = {p.key: p for p in PERIODS}


def choice(key: str) -> PeriodChoice:
    return _BY_KEY[key]


def next_period(key: str) -> str:
    keys = [p.key for p in PERIODS]
    return keys[(keys.index(key) + 1) % len(keys)]


def period_dates(key: str, today: date) -> tuple[date, date]:
    """First and last day (both included) of the period ``key`` ending today.

    "This week" starts on the ISO Monday, as the utilisation week does, so the SLA
    and utilisation panels talk about the same days.
    """
    if key == "week":
        return today - timedelta(days=today.weekday()), today
    if key == "4w":
        return today - timedelta(days=27), today
    if key == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        return date(today.year, first_month, 1), today
    raise ValueError(f"unknown period {key!r}")


def describe(first: date, last: date) -> str:
    """ "03 Nov – 30 Nov 2025": the dates always shown beside the period's name."""
    if first == last:
        return f"{last:%d %b %Y}"
    if first.year == last.year:
        return f"{first:%d %b} – {last:%d %b %Y}"
    return f"{first:%d %b %Y} – {last:%d %b %Y}"
