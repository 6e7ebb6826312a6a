"""Priority from impact and urgency, the ITIL way, plus the MSP's "quick hit".

The matrix is configurable per shop (setting ``priority_matrix``); the default
is the common 3x3 table. A small service request becomes a quick hit: work
done in minutes between larger jobs, which a healthy desk has many of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LEVELS = ("low", "medium", "high")
PRIORITIES = ("critical", "high", "medium", "low", "quick_hit")

#: DEFAULT_MATRIX[impact][urgency] -> priority
DEFAULT_MATRIX: dict[str, dict[str, str]] = {
    "high": {"high": "critical", "medium": "high", "low": "medium"},
    "medium": {"high": "high", "medium": "medium", "low": "low"},
    "low": {"high": "medium", "medium": "low", "low": "low"},
}

#: A service request at or under this estimate, at medium priority or below, is a quick hit.
DEFAULT_QUICK_HIT_HOURS = 0.5


@dataclass(frozen=True)
class PriorityPolicy:
    matrix: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: DEFAULT_MATRIX)
    quick_hit_hours: float = DEFAULT_QUICK_HIT_HOURS

    def validate(self) -> None:
        for impact in LEVELS:
            row = self.matrix.get(impact)
            if row is None:
                raise ValueError(f"priority matrix has no row for impact {impact!r}")
            for urgency in LEVELS:
                value = row.get(urgency)
                if value not in PRIORITIES:
                    raise ValueError(
                        f"priority matrix [{impact}][{urgency}] = {value!r} "
                        f"is not one of {PRIORITIES}"
                    )


def compute_priority(
    impact: str | None,
    urgency: str | None,
    ticket_type: str | None = None,
    estimate_hours: float | None = None,
    policy: PriorityPolicy | None = None,
) -> str | None:
    """The priority for these values, or None while impact or urgency is unknown."""
    if impact not in LEVELS or urgency not in LEVELS:
        return None
    policy = policy or PriorityPolicy()
    priority = policy.matrix[impact][urgency]
    if (
        ticket_type == "service_request"
        and estimate_hours is not None
        and estimate_hours <= policy.quick_hit_hours
        and priority in ("medium", "low")
    ):
        return "quick_hit"
    return priority


#: Sort key: lower sorts first on the dispatch board.
PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "quick_hit": 3, "low": 4}
