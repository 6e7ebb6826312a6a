"""The suggestion rule: each reason, the weights, and spreading a client's work."""

from __future__ import annotations

import pytest

from dispatch_tui.rules.suggest import TechFacts, TicketFacts, Weights, rank, score

NETWORK_HIGH = TicketFacts("high", "incident", "network", 2.0)
CRITICAL = TicketFacts("critical", "incident", None, 1)
QUICK = TicketFacts("quick_hit", "service_request", None, 0.25)


def tech(name: str = "Dev", tier: int = 2, skills: str = "network", **facts: object) -> TechFacts:
    defaults: dict[str, object] = {"free_hours_today": 6.0}
    defaults.update(facts)
    return TechFacts(
        id=abs(hash(name)) % 1000,
        name=name,
        tier=tier,
        skills=frozenset(skills.split(",")),
        **defaults,  # type: ignore[arg-type]
    )


def test_skill_is_named_either_way() -> None:
    has = score(NETWORK_HIGH, tech(skills="network"))
    lacks = score(NETWORK_HIGH, tech(skills="desktop"))
    assert "has the network skill" in has.reasons
    assert "lacks the network skill" in lacks.reasons
    assert has.score - lacks.score == Weights().has_skill - Weights().lacks_skill


@pytest.mark.parametrize(
    ("ticket", "tier", "reason"),
    [
        (CRITICAL, 1, "tier 1 is below the tier 2+ a critical incident needs"),
        (CRITICAL, 3, "tier 3 fits a critical incident"),
        (TicketFacts("high", "incident", None, 1), 1, "tier 2+ preferred for a high incident"),
        (QUICK, 3, "tier 3 on a quick hit: tier 1 preferred"),
        (QUICK, 1, "tier 1 fits a quick hit service request"),
        (TicketFacts("medium", "incident", None, 1), 1, "tier 1 fits a medium incident"),
    ],
)
def test_tier_fits_priority_and_type(ticket: TicketFacts, tier: int, reason: str) -> None:
    assert reason in score(ticket, tech(tier=tier)).reasons


def test_quick_hits_go_to_tier_one_first() -> None:
    quick = TicketFacts("quick_hit", "service_request", "desktop", 0.25)
    ranked = rank(quick, [tech("Senior", 3, "desktop"), tech("Junior", 1, "desktop")])
    assert [s.name for s in ranked] == ["Junior", "Senior"]


def test_free_hours_today_and_not_enough_time() -> None:
    roomy = score(NETWORK_HIGH, tech(free_hours_today=5))
    tight = score(NETWORK_HIGH, tech(free_hours_today=1))
    assert "5 h free today" in roomy.reasons
    assert "1 h free today, less than the 2 h estimate" in tight.reasons
    assert roomy.score > tight.score


def test_queue_length_lowers_the_score() -> None:
    idle = score(NETWORK_HIGH, tech(queue_count=0, queue_hours=0))
    busy = score(NETWORK_HIGH, tech(queue_count=4, queue_hours=6.5))
    assert "4 tickets queued (6.5 h)" in busy.reasons
    assert "0 tickets queued (0 h)" in idle.reasons
    assert idle.score - busy.score == pytest.approx(6.5 * -Weights().per_queued_hour)


def test_familiarity_is_a_reason_and_capped() -> None:
    once = score(NETWORK_HIGH, tech(client_history=1))
    many = score(NETWORK_HIGH, tech(client_history=50))
    new = score(NETWORK_HIGH, tech(client_history=0))
    assert "has worked this client before (once)" in once.reasons
    assert "has worked this client before (50 times)" in many.reasons
    assert "new to this client" in new.reasons
    w = Weights()
    assert many.score - new.score == w.per_client_ticket * w.familiarity_cap


def test_out_of_office_and_inactive_rank_last_with_the_reason() -> None:
    away = tech("Away", 3, "network", away=True, away_reason="training", free_hours_today=8)
    gone = tech("Gone", 3, "network", active=False, free_hours_today=8)
    ranked = rank(NETWORK_HIGH, [away, gone, tech("Here", 1, "desktop", free_hours_today=0)])
    assert [s.name for s in ranked][0] == "Here"
    assert not ranked[1].available and not ranked[2].available
    reasons = {s.name: s.reasons for s in ranked}
    assert "out of office now: training" in reasons["Away"]
    assert "inactive" in reasons["Gone"]


def test_off_shift_is_said_and_costs_points() -> None:
    on, off = score(NETWORK_HIGH, tech()), score(NETWORK_HIGH, tech(on_shift=False))
    assert "off shift now" in off.reasons
    assert on.score - off.score == -Weights().off_shift


def test_close_scores_spread_the_client_to_the_less_familiar_technician() -> None:
    # Equal in everything but history: familiarity gives Old 6 points, inside the margin.
    old = tech("Old", client_history=7)
    fresh = tech("Fresh", client_history=0)
    ranked = rank(NETWORK_HIGH, [old, fresh])
    assert [s.name for s in ranked] == ["Fresh", "Old"]
    assert ranked[0].score < ranked[1].score
    assert any("spread this client" in r and "Old" in r for r in ranked[0].reasons)
    assert any("client is shared" in r for r in ranked[1].reasons)


def test_a_clear_winner_is_not_displaced_by_spreading() -> None:
    old = tech("Old", client_history=7, free_hours_today=8)
    fresh = tech("Fresh", client_history=0, free_hours_today=1)
    ranked = rank(NETWORK_HIGH, [old, fresh])
    assert [s.name for s in ranked] == ["Old", "Fresh"]
    assert not any("spread" in r for r in ranked[0].reasons)


def test_weights_are_configurable() -> None:
    no_spread = Weights(spread_margin=0)
    ranked = rank(NETWORK_HIGH, [tech("Old", client_history=7), tech("Fresh")], no_spread)
    assert [s.name for s in ranked] == ["Old", "Fresh"]
    skill_blind = Weights(has_skill=0, lacks_skill=0)
    assert (
        score(NETWORK_HIGH, tech(skills="x"), skill_blind).score
        == score(NETWORK_HIGH, tech(), skill_blind).score
    )
    with pytest.raises(ValueError):
        Weights(spread_margin=-1)


def test_ties_break_by_name_so_the_order_is_stable() -> None:
    ranked = rank(NETWORK_HIGH, [tech("Zed"), tech("Amy")])
    assert [s.name for s in ranked] == ["Amy", "Zed"]
