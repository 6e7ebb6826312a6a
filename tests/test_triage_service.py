"""Triage end to end on a temporary database file: values, priority, audit, conflicts, bulk."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from dispatch_tui.errors import EditConflict, InvalidInput, NotFound
from dispatch_tui.rules.holidays import HolidayRule
from dispatch_tui.services import Desk, conflicts, settings, triage
from dispatch_tui.services.holidays import add_holiday
from dispatch_tui.services.tickets import add_ticket
from dispatch_tui.store.core import Executor, connection_for
from dispatch_tui.store.models import AuditEvent, Contact, Note, Ticket
from dispatch_tui.store.types import utcnow

FULL = {
    "ticket_type": "incident",
    "category": "hardware",
    "subcategory": "printer",
    "impact": "medium",
    "urgency": "high",
    "estimate_hours": 1.0,
    "required_skill": "printers",
}


def new_ticket(
    desk: Desk, contact: str | None = "Maria Lopez", summary: str = "Printer jams"
) -> int:
    return add_ticket(desk, client="Harbor Dental", summary=summary, contact=contact).id or 0


def events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.db.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
        return list(session.exec(query).all())


def load(desk: Desk, ticket_id: int) -> Ticket:
    with desk.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def test_triage_completes_the_ticket_in_one_transaction(desk: Desk) -> None:
    ticket_id = new_ticket(desk)
    before = utcnow()
    ticket = triage.triage_ticket(
        desk, ticket_id, note="Only the 2nd floor printer; <b>urgent</b>", **FULL
    )
    assert ticket.status == "triaged" and ticket.priority == "high"
    assert ticket.version == 2 and ticket.updated_by == "tester"
    assert ticket.triaged_at is not None and ticket.triaged_at >= before
    assert ticket.first_response_at == ticket.triaged_at
    stored = load(desk, ticket_id)
    assert (stored.category, stored.subcategory, stored.required_skill) == (
        "hardware",
        "printer",
        "printers",
    )
    (event,) = events(desk, "ticket.triage")
    assert event.entity_id == ticket_id and event.actor == "tester"
    assert json.loads(event.before or "")["status"] == "new"
    after = json.loads(event.after or "")
    assert (
        after["status"] == "triaged" and after["priority"] == "high" and after["impact"] == "medium"
    )
    with desk.db.read() as session:
        (note,) = session.exec(select(Note).where(Note.ticket_id == ticket_id)).all()
    assert note.kind == "internal" and note.author == "tester"
    assert note.body == "Only the 2nd floor printer; <b>urgent</b>"  # stored as typed
    assert len(events(desk, "note.create")) == 1


def test_incomplete_triage_is_refused_and_saves_nothing(desk: Desk) -> None:
    ticket_id = new_ticket(desk, contact=None)
    with pytest.raises(InvalidInput, match=r"#\d+ lacks contact, estimate and required skill"):
        triage.triage_ticket(
            desk, ticket_id, **{**FULL, "estimate_hours": None, "required_skill": None}
        )
    stored = load(desk, ticket_id)
    assert stored.status == "new" and stored.version == 1 and stored.category is None
    assert events(desk, "ticket.triage") == [] and events(desk, "ticket.update") == []


def test_large_service_request_needs_a_due_date(desk: Desk) -> None:
    ticket_id = new_ticket(desk, summary="Migrate file shares")
    fields = {
        **FULL,
        "ticket_type": "service_request",
        "category": "projects",
        "subcategory": "migration",
        "estimate_hours": 16.0,
        "required_skill": "cloud",
    }
    with pytest.raises(InvalidInput, match="lacks due date"):
        triage.triage_ticket(desk, ticket_id, **fields)
    due = utcnow() + timedelta(days=10)
    ticket = triage.triage_ticket(desk, ticket_id, due_at=due, **fields)
    assert ticket.status == "triaged" and ticket.due_at == due


def test_small_service_request_becomes_a_quick_hit(desk: Desk) -> None:
    ticket_id = new_ticket(desk, summary="Shared mailbox access")
    ticket = triage.triage_ticket(
        desk,
        ticket_id,
        **{
            **FULL,
            "ticket_type": "request",
            "category": "email",
            "subcategory": "permissions",
            "impact": "low",
            "urgency": "medium",
            "estimate_hours": 0.25,
        },
    )
    assert ticket.priority == "quick_hit" and ticket.ticket_type == "service_request"


def test_shop_priority_matrix_is_used(desk: Desk) -> None:
    matrix = {
        lvl: {u: "low" for u in ("low", "medium", "high")} for lvl in ("low", "medium", "high")
    }
    matrix["medium"]["high"] = "critical"
    settings.set_priority_policy(desk, matrix=matrix)
    ticket = triage.triage_ticket(desk, new_ticket(desk), **FULL)
    assert ticket.priority == "critical"


def test_stale_expected_version_names_who_changed_it(desk: Desk) -> None:
    ticket_id = new_ticket(desk)
    other = Desk(desk.db, "Alice")
    triage.update_triage_fields(other, ticket_id, expect_version=1, impact="high")
    with pytest.raises(EditConflict, match=r"changed by Alice at .*version 1, it is now 2"):
        triage.triage_ticket(desk, ticket_id, expect_version=1, **FULL)
    assert load(desk, ticket_id).status == "new"
    assert triage.triage_ticket(desk, ticket_id, expect_version=2, **FULL).status == "triaged"


def test_a_row_changed_under_the_orm_becomes_an_edit_conflict(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id = new_ticket(desk)
    # The version check every write path's row read makes (conflicts.ticket_row_at).
    real_check = conflicts.check_version

    def sneaky_writer(session: Executor, ticket: Ticket, expected: int | None) -> None:
        real_check(session, ticket, expected)
        # A tool that bypasses the ORM bumps the version after we loaded the row.
        connection_for(session).exec_driver_sql("UPDATE ticket SET version = version + 1")

    monkeypatch.setattr(conflicts, "check_version", sneaky_writer)
    with pytest.raises(EditConflict, match=f"ticket #{ticket_id} was changed by tester"):
        triage.triage_ticket(desk, ticket_id, **FULL)
    assert load(desk, ticket_id).version == 1  # rolled back, nothing saved


def test_partial_save_keeps_the_ticket_new(desk: Desk) -> None:
    ticket_id = new_ticket(desk, contact=None)
    result = triage.update_triage_fields(
        desk, ticket_id, impact="high", urgency="high", category="network"
    )
    assert result.ticket.status == "new" and result.ticket.priority == "critical"
    assert not result.complete
    assert result.missing == ["contact_id", "ticket_type", "estimate_hours", "required_skill"]
    (event,) = events(desk, "ticket.update")
    assert json.loads(event.after or "") == {
        "impact": "high",
        "urgency": "high",
        "category": "network",
        "priority": "critical",
    }
    assert triage.checklist(load(desk, ticket_id)) == result.missing


def test_contact_by_name_is_created_under_the_client(desk: Desk) -> None:
    ticket_id = new_ticket(desk, contact=None)
    ticket = triage.triage_ticket(desk, ticket_id, contact="Front Desk", **FULL)
    with desk.db.read() as session:
        contact = session.get(Contact, ticket.contact_id)
    assert (
        contact is not None
        and contact.name == "Front Desk"
        and contact.client_id == ticket.client_id
    )


def test_changing_the_client_asks_for_its_contact_again(desk: Desk) -> None:
    ticket_id = new_ticket(desk)
    result = triage.update_triage_fields(desk, ticket_id, client="Pinecrest Law")
    assert result.ticket.contact_id is None and "contact_id" in result.missing
    with pytest.raises(InvalidInput, match="not a contact of the ticket's client"):
        triage.update_triage_fields(desk, ticket_id, contact_id=1)


def test_changing_category_drops_a_subcategory_that_no_longer_fits(desk: Desk) -> None:
    ticket_id = new_ticket(desk)
    triage.update_triage_fields(desk, ticket_id, category="network", subcategory="vpn")
    result = triage.update_triage_fields(desk, ticket_id, category="email")
    assert (result.ticket.category, result.ticket.subcategory) == ("email", None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"category": "plumbing"}, "unknown category"),
        ({"impact": "huge"}, "unknown impact"),
        ({"estimate_hours": -1}, "estimate"),
        ({"summary": " "}, "summary is required"),
        ({"colour": "red"}, "no field 'colour'"),
        ({"due_at": utcnow() - timedelta(days=3)}, "before the ticket arrived"),
    ],
)
def test_bad_values_are_refused(desk: Desk, fields: dict, message: str) -> None:
    ticket_id = new_ticket(desk)
    with pytest.raises(InvalidInput, match=message):
        triage.update_triage_fields(desk, ticket_id, **fields)


def test_shop_categories_replace_the_defaults(desk: Desk) -> None:
    settings.set_categories(desk, {"Plumbing": ["Leak"], "hardware": ["printer"]})
    ticket_id = new_ticket(desk)
    result = triage.update_triage_fields(desk, ticket_id, category="plumbing", subcategory="leak")
    assert result.ticket.category == "plumbing"
    with pytest.raises(InvalidInput, match="unknown category 'network'"):
        triage.update_triage_fields(desk, ticket_id, category="network")


def test_retriage_keeps_the_first_triage_time_and_stays_complete(desk: Desk) -> None:
    ticket_id = new_ticket(desk)
    first = triage.triage_ticket(desk, ticket_id, **FULL)
    again = triage.triage_ticket(desk, ticket_id, impact="high")
    assert again.triaged_at == first.triaged_at and again.priority == "critical"
    with pytest.raises(InvalidInput, match="would no longer be complete"):
        triage.update_triage_fields(desk, ticket_id, estimate_hours=None)


def test_unknown_ticket_and_assigned_ticket(desk: Desk) -> None:
    with pytest.raises(NotFound):
        triage.triage_ticket(desk, 999, **FULL)
    ticket_id = new_ticket(desk)
    with desk.db.write() as session:
        session.connection().exec_driver_sql(
            f"UPDATE ticket SET status='assigned' WHERE id={ticket_id}"
        )
    with pytest.raises(InvalidInput, match="is assigned; triage edits only new or triaged"):
        triage.triage_ticket(desk, ticket_id, **FULL)


def test_bulk_triage_of_a_burst_of_alerts(desk: Desk) -> None:
    ids = [new_ticket(desk, summary=f"Monitor: disk C: low on SRV0{i}") for i in range(3)]
    fields = {
        **FULL,
        "category": "monitoring",
        "subcategory": "disk space",
        "required_skill": "servers",
    }
    results = triage.apply_to_many(desk, ids, fields, note="Same alert storm")
    assert [r.ticket.status for r in results] == ["triaged"] * 3
    assert [load(desk, i).summary for i in ids][0] == "Monitor: disk C: low on SRV00"  # own summary
    triaged = events(desk, "ticket.triage")
    assert [e.entity_id for e in triaged] == ids
    assert all("bulk, 3 tickets" in e.detail for e in triaged)
    assert len(events(desk, "note.create")) == 3


def test_bulk_triage_is_all_or_nothing(desk: Desk) -> None:
    ids = [new_ticket(desk), new_ticket(desk, contact=None), new_ticket(desk, contact=None)]
    with pytest.raises(
        InvalidInput, match=rf"2 tickets cannot be triaged yet: #{ids[1]} lacks contact; #{ids[2]}"
    ):
        triage.apply_to_many(desk, ids, FULL)
    assert [load(desk, i).status for i in ids] == ["new"] * 3
    with pytest.raises(EditConflict):
        triage.apply_to_many(desk, ids[:1], FULL, expect_versions={ids[0]: 7})
    with pytest.raises(InvalidInput, match="no tickets"):
        triage.apply_to_many(desk, [], FULL)


# -- the shop's policy -------------------------------------------------------------------


def test_policy_defaults(desk: Desk) -> None:
    policy = settings.shop_policy(desk)
    assert policy.calendar.tz.key == "UTC"
    assert policy.calendar.hours[0] == (480, 1020) and policy.calendar.hours[5] is None
    assert policy.sla.targets["critical"].first_response == 60
    assert "network" in policy.categories


def test_policy_reads_hours_zone_targets_and_holidays(desk: Desk) -> None:
    settings.set_shop_timezone(desk, "America/Chicago")
    settings.set_working_hours(desk, {"mon": ("7:00", "16:00"), "sat": ["09:00", "12:00"]})
    settings.set_sla_targets(desk, {"critical": {"resolution": 120}})
    add_holiday(desk, "Christmas", rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25")
    add_holiday(desk, "Offsite", day=date(2026, 12, 4))
    policy = settings.shop_policy(desk)
    cal = policy.calendar
    assert cal.tz.key == "America/Chicago"
    assert cal.hours[0] == (420, 960) and cal.hours[1] is None and cal.hours[5] == (540, 720)
    assert policy.sla.targets["critical"].resolution == 120
    assert policy.sla.targets["critical"].engagement == 60  # untouched default
    assert HolidayRule("Offsite", day=date(2026, 12, 4)) in cal.holiday_rules
    assert cal.is_closed(date(2026, 12, 25)) and cal.is_closed(date(2026, 12, 4))
    with desk.db.read() as session:
        stored = settings.read_setting(session, settings.WORKING_HOURS)
    assert stored["mon"] == ["07:00", "16:00"] and stored["tue"] is None


@pytest.mark.parametrize(
    ("setter", "value", "message"),
    [
        ("set_working_hours", {}, "at least one weekday"),
        ("set_working_hours", {"mon": ("17:00", "08:00")}, "end before they start"),
        ("set_sla_targets", {"urgent": {"resolution": 60}}, "unknown priority"),
        ("set_sla_targets", {"low": {"resolution": 0}}, "whole number"),
        ("set_sla_targets", {"low": {"fix": 60}}, "unknown SLA clock"),
        ("set_categories", {"email": "outlook"}, "subcategories"),
    ],
)
def test_bad_settings_are_refused(desk: Desk, setter: str, value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        getattr(settings, setter)(desk, value)


def test_bad_priority_settings_are_refused(desk: Desk) -> None:
    with pytest.raises(InvalidInput, match="no row for impact"):
        settings.set_priority_policy(desk, matrix={"high": {"high": "critical"}})
    with pytest.raises(InvalidInput, match="cannot be negative"):
        settings.set_priority_policy(desk, quick_hit_hours=-1)
    settings.set_priority_policy(desk, quick_hit_hours=1)
    assert settings.shop_policy(desk).priority.quick_hit_hours == 1.0


def test_a_hand_edited_bad_setting_is_named(desk: Desk) -> None:
    with desk.db.write() as session:
        settings.write_setting(
            session, "someone", settings.SLA_TARGETS, {"low": {"resolution": "soon"}}
        )
    with pytest.raises(InvalidInput, match="shop setting 'sla_targets'"):
        settings.shop_policy(desk)


# -- the SLA clock on stored tickets ------------------------------------------------------


def test_queue_clocks_use_the_shop_calendar(desk: Desk) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from dispatch_tui.services import sla, views

    settings.set_shop_timezone(desk, "America/Chicago")
    chicago = ZoneInfo("America/Chicago")
    today = utcnow().astimezone(chicago).date()
    monday = today - timedelta(days=7 + today.weekday())  # a past Monday, not a holiday here
    monday_evening = datetime(monday.year, monday.month, monday.day, 18, tzinfo=chicago)
    tuesday = monday_evening + timedelta(days=1)
    add_ticket(desk, client="Harbor Dental", summary="After hours", received_at=monday_evening)
    done = new_ticket(desk)
    triage.triage_ticket(desk, done, **FULL)
    rows = views.triage_queue(desk)
    states = sla.breach_clocks(desk, rows, now=tuesday.replace(hour=8, minute=45))
    (state,) = states.values()
    assert state is not None and state.clock == "first_response"
    assert state.minutes_left == 15 and state.due_at == tuesday.replace(hour=9)
    triaged = sla.clocks(settings.shop_policy(desk), [load(desk, done)])[done]
    assert triaged is not None and triaged.clock == "engagement"


# -- services/triage_board: what the Triage screen reads, in one transaction -------------


def test_triage_board_reads_everything_the_screen_shows_in_one_transaction(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dispatch_tui.services import claims, views
    from dispatch_tui.services.technicians import add_technician
    from dispatch_tui.services.tickets import get_ticket
    from dispatch_tui.services.triage_board import triage_data

    add_technician(desk, name="Dana Reyes", tier=2, skills="Printers, networking")
    older = new_ticket(desk, summary="Printer jams")
    theirs = new_ticket(desk, summary="VPN drops", contact=None)
    mine = new_ticket(desk, summary="Mail down")
    triage.triage_ticket(desk, new_ticket(desk, summary="Already done"), **FULL)
    claims.claim(Desk(desk.db, "bob"), theirs)
    claims.claim(desk, mine)

    reads = 0
    opened = type(desk.db).read

    def counting(self: object) -> object:
        nonlocal reads
        reads += 1
        return opened(self)  # type: ignore[arg-type]

    monkeypatch.setattr(type(desk.db), "read", counting)
    data = triage_data(desk)
    assert reads == 1
    monkeypatch.undo()

    assert [item.row.id for item in data.items] == [row.id for row in views.triage_queue(desk)]
    assert [item.row.id for item in data.items] == [older, theirs, mine]
    assert data.waiting == 3
    assert data.skills == ["networking", "printers"]
    assert all(item.clock is not None for item in data.items)
    # Other dispatchers' claims only: this dispatcher's own does not say "being triaged".
    assert set(data.claims) == {theirs} and data.claims[theirs].holder == "bob"
    for ticket_id in (older, theirs, mine):
        one = get_ticket(desk, ticket_id)
        named = data.tickets[ticket_id]
        assert (named.client, named.contact) == (one.client, one.contact)
        assert named.ticket.model_dump() == one.ticket.model_dump()
