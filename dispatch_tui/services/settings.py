"""Shop-wide settings stored in the database, so every dispatcher on the file agrees.

Values are JSON in the ``setting`` table. Per-person preferences (name, keymap)
live in the user's config file instead (see dispatch_tui/config.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, bindparam
from sqlmodel import Session, col, select

from dispatch_tui.errors import InvalidInput
from dispatch_tui.rules import triage as triage_rules
from dispatch_tui.rules.priority import PriorityPolicy
from dispatch_tui.rules.sla import (
    DEFAULT_TARGETS,
    WEEKDAYS,
    BusinessCalendar,
    SlaPolicy,
    Targets,
    format_hhmm,
)
from dispatch_tui.services import audit
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.holidays import holiday_rows
from dispatch_tui.services.holidays import rule as holiday_rule
from dispatch_tui.store.core import Executor, connection_for
from dispatch_tui.store.models import Setting
from dispatch_tui.store.types import utcnow

TIMEZONE = "timezone"
DEFAULT_TIMEZONE = "UTC"
#: {"mon": ["08:00", "17:00"], ..., "sat": null}; weekdays left out are closed.
WORKING_HOURS = "working_hours"
#: {"critical": {"first_response": 60, "engagement": 60, "resolution": 240}, ...} in
#: business minutes; priorities left out keep their defaults (rules/sla.py).
SLA_TARGETS = "sla_targets"
#: {"high": {"high": "critical", ...}, ...}: impact -> urgency -> priority.
PRIORITY_MATRIX = "priority_matrix"
#: Hours at or under which a medium/low service request becomes a quick hit.
QUICK_HIT_HOURS = "quick_hit_hours"
#: {"email": ["outlook", ...], ...}: category -> subcategories.
CATEGORIES = "categories"


def read_setting(session: Executor, key: str, default: Any = None) -> Any:
    """A setting's stored JSON value, or ``default`` when it is not set.

    A prebuilt Core statement, not the ORM's get: a key that is not set (the usual
    case) is not remembered by the session, so every screen refresh paid for the
    ORM path again, and it cost more than SQLite's lookup."""
    stored = connection_for(session).execute(_READ_ONE, {"key": key}).scalar()
    return json.loads(stored) if stored is not None else default


_READ_ONE = select(Setting.value).where(Setting.key == bindparam("key"))


def write_setting(session: Session, actor: str, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    before = json.loads(row.value) if row is not None else None
    encoded = json.dumps(value, sort_keys=True)
    if row is None:
        session.add(Setting(key=key, value=encoded, updated_by=actor))
    else:
        row.value, row.updated_at, row.updated_by = encoded, utcnow(), actor
    audit.record(
        session,
        actor,
        "setting.update",
        "setting",
        None,
        key,
        before={"value": before},
        after={"value": value},
    )


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name!r}; use an IANA name such as Europe/London or America/Chicago"
        ) from None


def shop_timezone(desk: Desk) -> ZoneInfo:
    with desk.db.read() as session:
        name = read_setting(session, TIMEZONE, DEFAULT_TIMEZONE)
    return parse_timezone(name)


def _restamp_sla(desk: Desk) -> None:
    # The SLA moments stored on tickets were derived under the old policy; the report
    # judges those live (right, slower) until restamped. Imported here: sla_stamps
    # reads the policy from this module.
    from dispatch_tui.services import sla_stamps

    sla_stamps.restamp_recent(desk)


def set_shop_timezone(desk: Desk, name: str) -> None:
    parse_timezone(name)
    with desk.db.write() as session:
        write_setting(session, desk.actor, TIMEZONE, name)
    _restamp_sla(desk)


# -- the shop's policy: calendar, SLA targets, priority matrix, categories ----------


@dataclass(frozen=True)
class ShopPolicy:
    """Everything triage and the SLA clock need from the shop, read in one go."""

    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    priority: PriorityPolicy = field(default_factory=PriorityPolicy)
    categories: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(triage_rules.DEFAULT_CATEGORIES)
    )


def _stored(key: str, build: Any, value: Any) -> Any:
    # A value that fails validation here was edited into the file by hand; say which.
    try:
        return build(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidInput(f"shop setting {key!r} in the database is not usable: {exc}") from None


def _hours(value: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError("working hours map weekdays to [start, end]")
    return value


def build_sla(value: Mapping[str, Any]) -> SlaPolicy:
    """Targets from JSON, merged over the defaults priority by priority and clock by clock."""
    if not isinstance(value, Mapping):
        raise ValueError("SLA targets map each priority to its targets")
    unknown = sorted(set(value) - set(DEFAULT_TARGETS))
    if unknown:
        raise ValueError(f"unknown priority {unknown[0]!r} in SLA targets")
    targets: dict[str, Targets] = {}
    for priority, default in DEFAULT_TARGETS.items():
        given = value.get(priority) or {}
        if not isinstance(given, Mapping):
            raise ValueError(f"SLA targets for {priority} must map clocks to minutes")
        extra = sorted(set(given) - {"first_response", "engagement", "resolution"})
        if extra:
            raise ValueError(f"unknown SLA clock {extra[0]!r} for {priority}")
        targets[priority] = Targets(
            first_response=given.get("first_response", default.first_response),
            engagement=given.get("engagement", default.engagement),
            resolution=given.get("resolution", default.resolution),
        )
    return SlaPolicy(targets)


def build_priority(matrix: Any, quick_hit_hours: Any) -> PriorityPolicy:
    if isinstance(quick_hit_hours, bool) or not isinstance(quick_hit_hours, int | float):
        raise ValueError("the quick-hit threshold is a number of hours")
    if quick_hit_hours < 0:
        raise ValueError("the quick-hit threshold cannot be negative")
    if not isinstance(matrix, Mapping) or not all(isinstance(r, Mapping) for r in matrix.values()):
        raise ValueError("the priority matrix maps impact to urgency to priority")
    policy = PriorityPolicy(matrix=matrix, quick_hit_hours=float(quick_hit_hours))
    policy.validate()
    return policy


_POLICY_KEYS = (TIMEZONE, WORKING_HOURS, PRIORITY_MATRIX, QUICK_HIT_HOURS, SLA_TARGETS, CATEGORIES)


def stored_texts(session: Executor, keys: tuple[str, ...]) -> dict[str, str]:
    """The stored JSON texts of ``keys`` in one statement; a key not set is absent.

    ``read_setting`` runs one query per key, and a key that is not set (the usual case)
    is not remembered by the session, so a reader of several keys (the policy, read
    inside every triage's write lock; the utilisation thresholds) asks here."""
    return dict(connection_for(session).execute(_read_texts(keys)).all())


@lru_cache(maxsize=8)
def _read_texts(keys: tuple[str, ...]) -> Select:
    # Built once per set of keys: building it cost more than running it. Each key is a
    # fixed parameter: an expanding IN was rendered into the SQL again at every run
    # (every dispatch board refresh).
    return select(Setting.key, Setting.value).where(
        col(Setting.key).in_([bindparam(f"key{i}", key) for i, key in enumerate(keys)])
    )


def load_policy(session: Executor) -> ShopPolicy:
    """The shop's policy from the ``setting`` and ``holiday`` tables, defaults filling gaps."""
    return load_policy_with(session, ())[0]


def load_policy_with(session: Executor, keys: tuple[str, ...]) -> tuple[ShopPolicy, dict[str, str]]:
    """``load_policy``, and the stored texts of ``keys`` (other settings the caller
    needs; a key not set is absent) from the same statement: the Dispatch screen reads
    the roster's utilisation thresholds with the policy, one statement fewer a refresh."""
    # Both tables are read on every call (so the policy is never stale, whoever wrote
    # the file); only building the objects from what was read is remembered.
    extra = tuple(key for key in keys if key not in _POLICY_KEYS)
    stored = stored_texts(session, _POLICY_KEYS + extra)
    policy = tuple(sorted((key, value) for key, value in stored.items() if key in _POLICY_KEYS))
    wanted = {key: value for key, value in stored.items() if key in keys}
    return _policy_from(policy, holiday_rows(session)), wanted


@lru_cache(maxsize=8)
def _policy_from(
    stored_text: tuple[tuple[str, str], ...],
    holidays_stored: tuple[tuple[str, date | None, str | None], ...],
) -> ShopPolicy:
    """The policy built from the stored setting texts and holiday rows: a pure function
    of them (every part is frozen or read-only), so it is remembered keyed by those
    values. A screen refresh rebuilt the calendar, SLA targets, priority matrix and
    categories from JSON each time; an edit is a new key, so it is never stale. A
    value that fails validation raises, and exceptions are not remembered."""
    stored = {key: json.loads(value) for key, value in stored_text}
    zone = parse_timezone(stored.get(TIMEZONE, DEFAULT_TIMEZONE))
    hours = stored.get(WORKING_HOURS)
    holidays = [holiday_rule(name, day, rrule) for name, day, rrule in holidays_stored]
    calendar = _stored(
        WORKING_HOURS,
        lambda h: BusinessCalendar.from_names(zone, None if h is None else _hours(h), holidays),
        hours,
    )
    default_priority = PriorityPolicy()
    priority = _stored(
        PRIORITY_MATRIX,
        lambda m: build_priority(m, stored.get(QUICK_HIT_HOURS, default_priority.quick_hit_hours)),
        stored.get(PRIORITY_MATRIX, default_priority.matrix),
    )
    return ShopPolicy(
        calendar=calendar,
        sla=_stored(SLA_TARGETS, build_sla, stored.get(SLA_TARGETS, {})),
        priority=priority,
        categories=_stored(
            CATEGORIES,
            triage_rules.validate_categories,
            stored.get(CATEGORIES, triage_rules.DEFAULT_CATEGORIES),
        ),
    )


def shop_policy(desk: Desk) -> ShopPolicy:
    with desk.db.read() as session:
        return load_policy(session)


def _checked(build: Any, value: Any) -> Any:
    try:
        return build(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidInput(str(exc)) from None


def set_working_hours(desk: Desk, hours: Mapping[str, tuple[str, str] | list[str] | None]) -> None:
    """Set the shop's hours, e.g. {"mon": ("08:00", "17:00"), ...}; days left out are closed."""
    calendar = _checked(lambda h: BusinessCalendar.from_names("UTC", _hours(h)), hours)
    # Stored normalised ("8:00" -> "08:00"), so every reader sees one spelling.
    stored = {
        day: [format_hhmm(w[0]), format_hhmm(w[1])] if w else None
        for day, w in zip(WEEKDAYS, calendar.hours, strict=True)
    }
    with desk.db.write() as session:
        write_setting(session, desk.actor, WORKING_HOURS, stored)
    _restamp_sla(desk)


def set_sla_targets(desk: Desk, targets: Mapping[str, Mapping[str, int]]) -> None:
    """Override SLA targets (business minutes); what is left out keeps its default."""
    _checked(build_sla, targets)
    with desk.db.write() as session:
        write_setting(session, desk.actor, SLA_TARGETS, {k: dict(v) for k, v in targets.items()})
    _restamp_sla(desk)


def set_priority_policy(
    desk: Desk,
    *,
    matrix: Mapping[str, Mapping[str, str]] | None = None,
    quick_hit_hours: float | None = None,
) -> None:
    with desk.db.write() as session:
        current = load_policy(session).priority
        new_matrix = current.matrix if matrix is None else matrix
        new_hours = current.quick_hit_hours if quick_hit_hours is None else quick_hit_hours
        _checked(lambda m: build_priority(m, new_hours), new_matrix)
        if matrix is not None:
            rows = {impact: dict(row) for impact, row in matrix.items()}
            write_setting(session, desk.actor, PRIORITY_MATRIX, rows)
        if quick_hit_hours is not None:
            write_setting(session, desk.actor, QUICK_HIT_HOURS, float(quick_hit_hours))


def set_categories(desk: Desk, categories: Mapping[str, list[str] | tuple[str, ...]]) -> None:
    cleaned = _checked(triage_rules.validate_categories, categories)
    with desk.db.write() as session:
        write_setting(session, desk.actor, CATEGORIES, {k: list(v) for k, v in cleaned.items()})
