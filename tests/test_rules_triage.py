"""The triage checklist and value checks: plain values, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch_tui import demo
from dispatch_tui.rules import triage

COMPLETE = {
    "summary": "Printer jams",
    "client_id": 1,
    "contact_id": 2,
    "ticket_type": "incident",
    "category": "hardware",
    "impact": "medium",
    "urgency": "high",
    "estimate_hours": 1.0,
    "required_skill": "printers",
    "due_at": None,
}


def test_an_empty_ticket_lacks_everything_but_a_due_date() -> None:
    assert triage.missing({}) == [
        "summary", "client_id", "contact_id", "ticket_type", "category",
        "impact", "urgency", "estimate_hours", "required_skill",
    ]  # fmt: skip


def test_a_complete_ticket_lacks_nothing() -> None:
    assert triage.missing(COMPLETE) == []


def test_blank_text_counts_as_missing() -> None:
    assert triage.missing({**COMPLETE, "summary": "  ", "required_skill": ""}) == [
        "summary",
        "required_skill",
    ]


@pytest.mark.parametrize(
    ("ticket_type", "hours", "needs_due"),
    [
        ("service_request", 6.0, True),
        ("service_request", 4.0, False),  # exactly 4 h is not yet scheduled work
        ("service_request", 0.25, False),
        ("incident", 16.0, False),  # incidents run on their SLA clock
    ],
)
def test_due_date_is_required_only_for_large_service_requests(
    ticket_type: str, hours: float, needs_due: bool
) -> None:
    values = {**COMPLETE, "ticket_type": ticket_type, "estimate_hours": hours}
    assert triage.missing(values) == (["due_at"] if needs_due else [])
    values["due_at"] = datetime(2026, 12, 1, tzinfo=UTC)
    assert triage.missing(values) == []


def test_describe_reads_like_a_sentence() -> None:
    assert triage.describe([]) == ""
    assert triage.describe(["contact_id"]) == "contact"
    assert triage.describe(["contact_id", "estimate_hours", "due_at"]) == (
        "contact, estimate and due date"
    )


def test_type_accepts_what_dispatchers_say() -> None:
    assert triage.parse_type("Incident") == "incident"
    assert triage.parse_type("service request") == "service_request"
    assert triage.parse_type("SR") == "service_request"
    with pytest.raises(ValueError, match="unknown type 'problem'"):
        triage.parse_type("problem")


def test_levels() -> None:
    assert triage.parse_level(" HIGH ", "impact") == "high"
    with pytest.raises(ValueError, match="unknown urgency 'asap'"):
        triage.parse_level("asap", "urgency")


@pytest.mark.parametrize("bad", [0, -1, float("nan"), 500])
def test_estimate_bounds(bad: float) -> None:
    with pytest.raises(ValueError, match="estimate"):
        triage.parse_estimate(bad)
    assert triage.parse_estimate(0.25) == 0.25


def test_skill_is_one_lower_case_word() -> None:
    assert triage.parse_skill(" M365 ") == "m365"
    for bad in ("", "network,m365", "x" * 41):
        with pytest.raises(ValueError, match="required skill"):
            triage.parse_skill(bad)


def test_category_and_subcategory_come_from_the_shop_list() -> None:
    cats = triage.DEFAULT_CATEGORIES
    assert triage.parse_category("Network", "VPN", cats) == ("network", "vpn")
    assert triage.parse_category("network", None, cats) == ("network", None)
    with pytest.raises(ValueError, match="unknown category 'plumbing'"):
        triage.parse_category("plumbing", None, cats)
    with pytest.raises(ValueError, match="unknown subcategory 'toner' of network"):
        triage.parse_category("network", "toner", cats)


def test_due_date_after_arrival() -> None:
    created = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert triage.check_due(created + timedelta(days=1), created) == created + timedelta(days=1)
    with pytest.raises(ValueError, match="before the ticket arrived"):
        triage.check_due(created - timedelta(hours=1), created)
    with pytest.raises(ValueError, match="time zone"):
        triage.check_due(datetime(2026, 12, 1), created)


def test_category_lists_are_validated_and_normalised() -> None:
    assert triage.validate_categories({" Email ": ["Outlook", "outlook", "Spam"]}) == {
        "email": ("outlook", "spam")
    }
    for bad in ({}, [], {"email": "outlook"}, {"": []}, {"email": [""]}):
        with pytest.raises(ValueError):
            triage.validate_categories(bad)


def test_default_categories_cover_the_demo_desk() -> None:
    # The demo's tickets must triage cleanly against the default list.
    for _summary, _kind, category, subcategory, _skill, _hours in demo.WORK:
        assert subcategory in triage.DEFAULT_CATEGORIES[category], (category, subcategory)
