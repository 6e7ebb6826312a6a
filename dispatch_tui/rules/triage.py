"""What makes a ticket triaged: the checklist, and which values each field accepts.

A ticket is triaged when a technician can move it forward without coming back
with questions (see shared/domain.md): summary, client, contact, type, category,
impact, urgency, estimate and required skill are all known.

The due date is required only for a **service request estimated at more than
4 hours** (``SCHEDULED_WORK_HOURS``). That is the size at which practice says
work is booked as a service call; the client is then owed a date, and the
dispatcher needs one to place the call. Incidents are driven by their SLA
clock instead, and small requests by the queue order, so neither needs one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dispatch_tui.rules.priority import LEVELS

TICKET_TYPES = ("incident", "service_request")

#: Above this estimate a service request is scheduled work and needs a due date.
SCHEDULED_WORK_HOURS = 4.0
#: Larger estimates are almost always a typo (minutes typed as hours); projects are split.
MAX_ESTIMATE_HOURS = 200.0
MAX_SKILL = 40

#: The checklist in the order the triage panel shows it: field name -> label.
CHECKLIST: dict[str, str] = {
    "summary": "summary",
    "client_id": "client",
    "contact_id": "contact",
    "ticket_type": "type",
    "category": "category",
    "impact": "impact",
    "urgency": "urgency",
    "estimate_hours": "estimate",
    "required_skill": "required skill",
    "due_at": "due date",
}

#: A sensible MSP category list, matching the demo desk; shops replace it (setting
#: ``categories``). Category -> subcategories.
DEFAULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "accounts": ("new user", "offboarding", "password", "permissions"),
    "backup": ("job failure", "restore", "configuration"),
    "email": ("outlook", "permissions", "mailbox", "spam"),
    "hardware": ("printer", "scanner", "laptop", "desktop", "server", "peripheral"),
    "monitoring": ("disk space", "cpu", "offline", "service down"),
    "network": ("vpn", "wifi", "firewall", "internet", "switching"),
    "onboarding": ("new user", "equipment"),
    "procurement": ("quote", "order", "licence"),
    "projects": ("migration", "upgrade", "rollout"),
    "security": ("account", "phishing", "malware", "access"),
    "software": ("install", "line of business", "update", "licence"),
    "voip": ("audio", "handset", "call routing"),
}


def needs_due_date(ticket_type: str | None, estimate_hours: float | None) -> bool:
    return (
        ticket_type == "service_request"
        and estimate_hours is not None
        and estimate_hours > SCHEDULED_WORK_HOURS
    )


def missing(values: Mapping[str, Any]) -> list[str]:
    """Checklist fields still missing, as field names in checklist order (empty: complete).

    ``values`` maps ticket field names to their current values.
    """
    gaps: list[str] = []
    for name in CHECKLIST:
        if name == "due_at":
            if needs_due_date(values.get("ticket_type"), values.get("estimate_hours")) and (
                values.get("due_at") is None
            ):
                gaps.append(name)
            continue
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            gaps.append(name)
    return gaps


def describe(gaps: Sequence[str]) -> str:
    """'contact, estimate and due date': the checklist gaps as a dispatcher reads them."""
    labels = [CHECKLIST.get(g, g) for g in gaps]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


# -- validating values: each returns the normalised value or raises ValueError ----------


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    normal = value.strip().lower().replace(" ", "_").replace("-", "_")
    if normal not in allowed:
        raise ValueError(f"unknown {what} {value!r}; use one of: {', '.join(allowed)}")
    return normal


def parse_type(value: str) -> str:
    # Dispatchers say "request" and "sr"; the stored value is the full name.
    aliases = {"request": "service_request", "sr": "service_request", "inc": "incident"}
    normal = value.strip().lower()
    return _choice(aliases.get(normal, normal), TICKET_TYPES, "type")


def parse_level(value: str, what: str) -> str:
    return _choice(value, LEVELS, what)


def parse_estimate(value: float) -> float:
    if value != value or value <= 0:  # value != value: NaN
        raise ValueError("the estimate must be a number of hours above zero")
    if value > MAX_ESTIMATE_HOURS:
        raise ValueError(
            f"an estimate of {value:g} h is above {MAX_ESTIMATE_HOURS:g} h; split the work "
            "into smaller tickets"
        )
    return float(value)


def parse_skill(value: str) -> str:
    # Skills are compared with the technicians' lower-case skill lists.
    skill = value.strip().lower()
    if not skill or "," in skill or len(skill) > MAX_SKILL:
        raise ValueError(f"a required skill is one short word such as 'network', not {value!r}")
    return skill


def parse_category(
    category: str, subcategory: str | None, categories: Mapping[str, Sequence[str]]
) -> tuple[str, str | None]:
    """The category and subcategory, checked against the shop's list."""
    name = category.strip().lower()
    if name not in categories:
        known = ", ".join(sorted(categories))
        raise ValueError(f"unknown category {category!r}; the shop's categories are: {known}")
    if subcategory is None or not subcategory.strip():
        return name, None
    sub = subcategory.strip().lower()
    allowed = categories[name]
    if sub not in allowed:
        choices = ", ".join(allowed) if allowed else "none"
        raise ValueError(f"unknown subcategory {subcategory!r} of {name}; use one of: {choices}")
    return name, sub


def check_due(due_at: datetime, created_at: datetime) -> datetime:
    if due_at.tzinfo is None:
        raise ValueError("the due date needs a time zone")
    if due_at <= created_at:
        raise ValueError("the due date lies before the ticket arrived")
    return due_at


def validate_categories(value: Any) -> dict[str, tuple[str, ...]]:
    """A category list as a shop sets it: {category: [subcategory, ...]}, lower case."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError("categories must map each category to a list of subcategories")
    cleaned: dict[str, tuple[str, ...]] = {}
    for name, subs in value.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a category needs a name")
        if not isinstance(subs, list | tuple) or not all(
            isinstance(s, str) and s.strip() for s in subs
        ):
            raise ValueError(f"subcategories of {name!r} must be a list of names")
        cleaned[name.strip().lower()] = tuple(dict.fromkeys(s.strip().lower() for s in subs))
    return cleaned
