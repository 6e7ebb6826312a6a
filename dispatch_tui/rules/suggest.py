"""Which technician should take a ticket: a score per technician, with the reasons in words.

Pure over plain values so the Dispatch screen, ``ticket suggest`` and the tests rank
the same way. The weights are a dataclass so a shop can tune them later (a shop
setting) without touching the rule.

The reasons are the product, not decoration: a dispatcher who is not technical must
be able to say why Dev and not Ava ("has the network skill, tier 2 fits a high
incident, 5 h free today, 2 tickets queued"). Two dispatch goals pull against each
other here: familiarity with a client makes a technician faster, but if one
technician always gets one client the knowledge leaves with them (a knowledge silo).
So familiarity adds a little to the score, and when the best candidates are within
``spread_margin`` of each other the one with the least history with this client goes
first, and the reasons say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: Priorities that need a senior technician, and the lowest tier that fits them.
MIN_TIER = {"critical": 2}
#: Priorities where a senior technician is preferred but not required.
PREFERRED_TIER = {"critical": 2, "high": 2}


@dataclass(frozen=True)
class Weights:
    """Points each fact is worth. Positive helps, negative hurts."""

    has_skill: float = 40.0
    #: A ticket that names a skill the technician lacks.
    lacks_skill: float = -40.0
    tier_fits: float = 15.0
    #: Below the minimum tier (a tier 1 on a critical incident).
    tier_too_low: float = -45.0
    #: Below the preferred tier (a tier 1 on a high priority).
    tier_below_preferred: float = -10.0
    #: A senior technician on a quick hit: it fits, but wastes senior time.
    senior_on_quick_hit: float = -8.0
    #: Per free hour today, counted up to ``free_hours_cap``.
    per_free_hour: float = 3.0
    free_hours_cap: float = 8.0
    #: Free hours today below the ticket's estimate.
    not_enough_time: float = -10.0
    #: Per estimated hour already queued, counted up to ``queue_hours_cap``.
    per_queued_hour: float = -2.0
    queue_hours_cap: float = 20.0
    #: Per earlier ticket for this client, counted up to ``familiarity_cap`` tickets.
    per_client_ticket: float = 2.0
    familiarity_cap: int = 3
    #: Candidates whose scores are this close count as equally good: the one with the
    #: least history with the client goes first, to spread knowledge.
    spread_margin: float = 6.0
    #: Not on shift now (outside working hours, a holiday): they may still take it later.
    off_shift: float = -15.0

    def __post_init__(self) -> None:
        if self.spread_margin < 0 or self.free_hours_cap < 0 or self.queue_hours_cap < 0:
            raise ValueError("margins and caps cannot be negative")
        if self.familiarity_cap < 0:
            raise ValueError("the familiarity cap cannot be negative")


@dataclass(frozen=True)
class TicketFacts:
    priority: str | None
    ticket_type: str | None
    required_skill: str | None
    estimate_hours: float | None


@dataclass(frozen=True)
class TechFacts:
    id: int
    name: str
    tier: int
    skills: frozenset[str]
    active: bool = True
    #: On shift now (working hours, not a holiday).
    on_shift: bool = True
    #: Out of office now, with the reason given ("" when not away).
    away: bool = False
    away_reason: str = ""
    #: Working hours left today, less booked calls, out-of-office and queued estimates.
    free_hours_today: float = 0.0
    queue_count: int = 0
    queue_hours: float = 0.0
    #: This technician's earlier tickets for the ticket's client (over a recent window).
    client_history: int = 0


@dataclass(frozen=True)
class Suggestion:
    tech_id: int
    name: str
    score: float
    #: False when the technician cannot take work now (inactive, out of office): listed last.
    available: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)
    client_history: int = 0


def _hours(value: float) -> str:
    return f"{round(value, 2):g} h"


def _tier_reason(ticket: TicketFacts, tier: int, weights: Weights) -> tuple[float, str]:
    priority = ticket.priority or "unset"
    what = f"{priority.replace('_', ' ')} {(ticket.ticket_type or 'ticket').replace('_', ' ')}"
    minimum = MIN_TIER.get(ticket.priority or "")
    preferred = PREFERRED_TIER.get(ticket.priority or "")
    if minimum is not None and tier < minimum:
        return weights.tier_too_low, f"tier {tier} is below the tier {minimum}+ a {what} needs"
    if preferred is not None and tier < preferred:
        return weights.tier_below_preferred, f"tier {preferred}+ preferred for a {what}"
    if ticket.priority == "quick_hit" and tier > 1:
        return weights.senior_on_quick_hit, f"tier {tier} on a quick hit: tier 1 preferred"
    return weights.tier_fits, f"tier {tier} fits a {what}"


def score(ticket: TicketFacts, tech: TechFacts, weights: Weights | None = None) -> Suggestion:
    """One technician's score for the ticket, and each reason that made it."""
    w = weights or Weights()
    points = 0.0
    reasons: list[str] = []
    available = tech.active and not tech.away
    if not tech.active:
        reasons.append("inactive")
    if tech.away:
        reasons.append(f"out of office now{': ' + tech.away_reason if tech.away_reason else ''}")

    skill = (ticket.required_skill or "").strip().lower()
    if skill and skill in tech.skills:
        points += w.has_skill
        reasons.append(f"has the {skill} skill")
    elif skill:
        points += w.lacks_skill
        reasons.append(f"lacks the {skill} skill")

    tier_points, tier_text = _tier_reason(ticket, tech.tier, w)
    points += tier_points
    reasons.append(tier_text)

    if not tech.on_shift and available:
        points += w.off_shift
        reasons.append("off shift now")
    free = max(0.0, tech.free_hours_today)
    points += w.per_free_hour * min(free, w.free_hours_cap)
    needed = ticket.estimate_hours or 0.0
    if needed and free < needed:
        points += w.not_enough_time
        reasons.append(f"{_hours(free)} free today, less than the {_hours(needed)} estimate")
    else:
        reasons.append(f"{_hours(free)} free today")

    points += w.per_queued_hour * min(tech.queue_hours, w.queue_hours_cap)
    noun = "ticket" if tech.queue_count == 1 else "tickets"
    reasons.append(f"{tech.queue_count} {noun} queued ({_hours(tech.queue_hours)})")

    if tech.client_history:
        points += w.per_client_ticket * min(tech.client_history, w.familiarity_cap)
        times = "once" if tech.client_history == 1 else f"{tech.client_history} times"
        reasons.append(f"has worked this client before ({times})")
    else:
        reasons.append("new to this client")
    return Suggestion(
        tech.id, tech.name, round(points, 2), available, tuple(reasons), tech.client_history
    )


def rank(
    ticket: TicketFacts, techs: Iterable[TechFacts], weights: Weights | None = None
) -> list[Suggestion]:
    """Technicians best first: available ones by score, then those who cannot take work.

    When several available candidates score within ``spread_margin`` of the best,
    the one with the least history with this client goes first (knowledge sharing).
    """
    w = weights or Weights()
    scored = [score(ticket, tech, w) for tech in techs]
    # Name breaks exact ties, so the order never depends on the database's row order.
    scored.sort(key=lambda s: (not s.available, -s.score, s.name.lower()))
    ready = [s for s in scored if s.available]
    rest = [s for s in scored if not s.available]
    if len(ready) < 2:
        return ready + rest
    best = ready[0]
    close = [s for s in ready if best.score - s.score <= w.spread_margin]
    spread = min(close, key=lambda s: (s.client_history, -s.score, s.name.lower()))
    if spread is not best and spread.client_history < best.client_history:
        ready.remove(spread)
        spread = _with_reason(
            spread,
            f"first to spread this client: within {w.spread_margin:g} points of "
            f"{best.name}, who has worked this client more",
        )
        best = _with_reason(
            best, f"knows this client well; {spread.name} is close, so the client is shared"
        )
        ready[0] = best
        ready.insert(0, spread)
    return ready + rest


def _with_reason(suggestion: Suggestion, reason: str) -> Suggestion:
    return Suggestion(
        suggestion.tech_id,
        suggestion.name,
        suggestion.score,
        suggestion.available,
        (*suggestion.reasons, reason),
        suggestion.client_history,
    )
