from __future__ import annotations

import pytest

from dispatch_tui.rules.gate import check
from dispatch_tui.rules.priority import PriorityPolicy, compute_priority


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        ("high", "high", "critical"),
        ("high", "medium", "high"),
        ("medium", "high", "high"),
        ("high", "low", "medium"),
        ("medium", "medium", "medium"),
        ("low", "high", "medium"),
        ("medium", "low", "low"),
        ("low", "medium", "low"),
        ("low", "low", "low"),
    ],
)
def test_default_matrix(impact: str, urgency: str, expected: str) -> None:
    assert compute_priority(impact, urgency, "incident", 2.0) == expected


def test_unknown_levels_give_no_priority() -> None:
    assert compute_priority(None, "high") is None
    assert compute_priority("huge", "high") is None


def test_small_service_request_is_a_quick_hit() -> None:
    assert compute_priority("medium", "medium", "service_request", 0.5) == "quick_hit"
    assert compute_priority("medium", "medium", "service_request", 0.75) == "medium"
    # An incident is never a quick hit, nor is urgent work, however small.
    assert compute_priority("medium", "medium", "incident", 0.25) == "medium"
    assert compute_priority("high", "high", "service_request", 0.25) == "critical"


def test_custom_matrix_and_threshold() -> None:
    strict = {
        lvl: {u: "high" for u in ("low", "medium", "high")} for lvl in ("low", "medium", "high")
    }
    policy = PriorityPolicy(matrix=strict, quick_hit_hours=1.0)
    assert compute_priority("low", "low", "incident", 1.0, policy) == "high"
    PriorityPolicy(matrix=strict).validate()
    broken = {**strict, "low": {"low": "urgent", "medium": "low", "high": "low"}}
    with pytest.raises(ValueError, match=r"\[low\]\[low\]"):
        PriorityPolicy(matrix=broken).validate()


def test_gate() -> None:
    assert check(0).open and "open" in check(0).explain()
    closed = check(3)
    assert not closed.open and "3 tickets wait" in closed.explain()
    assert "1 ticket waits" in check(1).explain()
    with pytest.raises(ValueError):
        check(-1)
