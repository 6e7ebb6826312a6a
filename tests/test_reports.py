"""Report figures on a small hand-built desk, against values worked out by hand.

The shop calendar is the default: UTC, Monday to Friday 08:00-17:00. 2 February 2026
is a Monday; "now" is Friday 20 February, 12:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dispatch_tui.services import Desk, reports, sla_stamps
from dispatch_tui.store.models import Client, Technician, Ticket


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 2, day, hour, minute, tzinfo=UTC)


NOW = utc(20, 12)


@pytest.fixture(params=["live", "stored"])
def small_desk(desk: Desk, request: pytest.FixtureRequest) -> Desk:
    """The hand-built desk, its SLA moments either left to the report to judge live or
    stamped first (services/sla_stamps.py): the figures must not differ."""
    with desk.db.write() as session:
        client = Client(name="Harbor Dental")
        ava, ben = Technician(name="Ava"), Technician(name="Ben")
        session.add_all([client, ava, ben])
        session.flush()

        def ticket(**kw) -> Ticket:
            kw.setdefault("updated_at", kw["created_at"])
            return Ticket(client_id=client.id, summary="s", **kw)

        session.add_all(
            [
                # 1: high incident, every target met (FR 30, eng 60 <= 120, res 420 <= 480).
                ticket(
                    status="resolved",
                    ticket_type="incident",
                    priority="high",
                    created_at=utc(2, 9),
                    first_response_at=utc(2, 9, 30),
                    engaged_at=utc(2, 10),
                    resolved_at=utc(2, 16),
                ),
                # 2: medium incident, FR 90 > 60 missed, eng 180 <= 240 met, unresolved
                #    by now (far past 24 business hours): missed.
                ticket(
                    status="in_progress",
                    ticket_type="incident",
                    priority="medium",
                    created_at=utc(2, 9),
                    first_response_at=utc(2, 10, 30),
                    engaged_at=utc(2, 12),
                    assigned_tech_id=ava.id,
                ),
                # 3: quick hit, FR 30 + 20 = 50 met, eng 30 + 540 = 570 > 480 missed,
                #    res 30 + 540 + 60 = 630 <= 960 met.
                ticket(
                    status="closed",
                    ticket_type="service_request",
                    priority="quick_hit",
                    created_at=utc(3, 16, 30),
                    first_response_at=utc(4, 8, 20),
                    engaged_at=utc(4, 17),
                    resolved_at=utc(5, 9),
                ),
                # 4: arrives the week after the period.
                ticket(
                    status="assigned",
                    ticket_type="incident",
                    priority="medium",
                    created_at=utc(9, 9),
                    first_response_at=utc(9, 9, 10),
                    assigned_tech_id=ava.id,
                ),
                # 5: never triaged: first response missed.
                ticket(status="new", created_at=utc(5, 10)),
                # 6 and 7: recent open tickets for the aging buckets.
                ticket(
                    status="triaged", ticket_type="incident", priority="low", created_at=utc(20, 6)
                ),
                ticket(
                    status="waiting_client",
                    ticket_type="incident",
                    priority="low",
                    created_at=utc(18, 12),
                ),
            ]
        )
    if request.param == "stored":
        assert sla_stamps.restamp(desk) == 7  # every ticket of the desk
    return desk


def test_sla_shares_by_priority_and_overall(small_desk: Desk) -> None:
    report = reports.sla_report(small_desk, date(2026, 2, 2), date(2026, 2, 6), weeks=2, now=NOW)
    groups = {g.name: g for g in report.groups}
    assert [g.name for g in report.groups] == ["high", "medium", "quick_hit", "untriaged", "all"]
    overall = groups["all"]
    assert overall.tickets == 4
    assert (overall.first_response.met, overall.first_response.missed) == (2, 2)
    assert overall.first_response.share == 0.5
    assert (overall.engagement.met, overall.engagement.missed) == (2, 1)
    assert overall.engagement.share == 0.6667
    assert (overall.resolution.met, overall.resolution.missed) == (2, 1)
    assert groups["high"].resolution.share == 1.0
    medium = groups["medium"]
    assert (medium.first_response.share, medium.engagement.share, medium.resolution.share) == (
        0.0,
        1.0,
        0.0,
    )
    quick = groups["quick_hit"]
    assert (quick.first_response.share, quick.engagement.share, quick.resolution.share) == (
        1.0,
        0.0,
        1.0,
    )
    assert groups["untriaged"].first_response.missed == 1
    assert groups["untriaged"].engagement.share is None


def test_sla_trend_is_per_iso_week(small_desk: Desk) -> None:
    report = reports.sla_report(small_desk, date(2026, 2, 2), date(2026, 2, 13), weeks=3, now=NOW)
    weeks = {g.name: g for g in report.weeks}
    assert list(weeks) == ["2026-W05", "2026-W06", "2026-W07"]
    assert weeks["2026-W05"].tickets == 0 and weeks["2026-W05"].first_response.share is None
    assert weeks["2026-W06"].tickets == 4 and weeks["2026-W06"].first_response.share == 0.5
    # Ticket 4: first response in 10 minutes; engagement never, now long past 4 hours.
    w07 = weeks["2026-W07"]
    assert (w07.tickets, w07.first_response.met, w07.engagement.missed) == (1, 1, 1)


def test_priority_distribution_splits_types(small_desk: Desk) -> None:
    period, rows = reports.priority_distribution(
        small_desk, date(2026, 2, 2), date(2026, 2, 6), now=NOW
    )
    assert period.start == utc(2) and period.end == utc(7)
    got = {(r.ticket_type, r.priority): (r.count, r.share) for r in rows}
    assert got == {
        ("incident", "high"): (1, 0.5),
        ("incident", "medium"): (1, 0.5),
        ("service_request", "quick_hit"): (1, 1.0),
        ("untriaged", "untriaged"): (1, 1.0),
    }
    assert rows[-1].ticket_type == "untriaged"


def test_open_ticket_aging(small_desk: Desk) -> None:
    buckets = reports.open_ticket_aging(small_desk, now=NOW)
    # Open: #2 (18 days), #4 (11), #5 (15), #6 (6 hours), #7 (exactly 2 days).
    assert [(b.label, b.count) for b in buckets] == [
        ("<1d", 1),
        ("1-3d", 1),
        ("3-7d", 0),
        ("7-30d", 3),
        (">30d", 0),
    ]


def test_open_tickets_per_technician(small_desk: Desk) -> None:
    rows = reports.open_tickets_per_technician(small_desk)
    assert [(r.tech, r.open_tickets) for r in rows] == [("Ava", 2), ("Ben", 0), (None, 3)]


def test_periods_are_checked(small_desk: Desk) -> None:
    from dispatch_tui.errors import InvalidInput

    with pytest.raises(InvalidInput, match="before it starts"):
        reports.sla_report(small_desk, date(2026, 2, 6), date(2026, 2, 2))
    with pytest.raises(InvalidInput, match="at most"):
        reports.priority_distribution(small_desk, date(2024, 1, 1), date(2026, 1, 1))
