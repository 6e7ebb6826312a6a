"""A realistic demo desk: a small MSP with clients, technicians and weeks of history.

Deterministic for a given seed, and fast at any size: rows are built as plain
dicts and written with executemany inside one transaction (100k tickets in a
few seconds), not one ORM object at a time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch_tui.demo_calls import DemoCallBook
from dispatch_tui.rules.priority import compute_priority
from dispatch_tui.rules.schedule import Absence, named_holidays
from dispatch_tui.rules.workhours import WorkingHours
from dispatch_tui.services import audit, sla_stamps
from dispatch_tui.services.desk import Desk
from dispatch_tui.services.settings import TIMEZONE, load_policy, write_setting
from dispatch_tui.store import queries, sla_tally
from dispatch_tui.store.bulk import bulk_insert, drop_plain_indexes, rebuild_indexes
from dispatch_tui.store.models import (
    Client,
    Contact,
    Holiday,
    Note,
    OutOfOffice,
    ServiceCall,
    Technician,
    Ticket,
    TimeEntry,
)

DEMO_TIMEZONE = "America/Chicago"

CLIENTS = [
    ("Harbor Dental Group", "harbordental.com", ["Maria Lopez", "Dr. Ken Ito", "Front Desk"]),
    ("Pinecrest Law LLP", "pinecrestlaw.com", ["Anne Whitfield", "Raj Patel"]),
    (
        "Northwind Logistics",
        "northwind-logistics.com",
        ["Tom Becker", "Dispatch Office", "Lena Hart"],
    ),
    ("Bluebird Bakery", "bluebirdbakery.com", ["Sofia Moretti"]),
    ("Summit Accounting", "summitcpa.com", ["Greg Hill", "Priya Nair"]),
    ("Riverside Clinic", "riversideclinic.org", ["Nurse Station", "Dana Cole", "IT Liaison"]),
    ("Oakline Realty", "oaklinerealty.com", ["Jesse Park", "Carla Diaz"]),
    ("Metro Auto Parts", "metroautoparts.com", ["Warehouse", "Bill Osei"]),
]

TECHS = [
    # name, tier, skills, working days, start, end
    ("Ava Chen", 1, "desktop,m365,printers", "mon,tue,wed,thu,fri", "07:00", "16:00"),
    ("Ben Okafor", 1, "desktop,printers,voip", "mon,tue,wed,thu,fri", "08:00", "17:00"),
    ("Carmen Ruiz", 2, "m365,security,desktop", "mon,tue,wed,thu,fri", "08:00", "17:00"),
    ("Dev Sharma", 2, "network,firewall,voip", "mon,tue,wed,thu,fri", "09:00", "18:00"),
    ("Elena Novak", 3, "network,servers,security,backup", "mon,tue,wed,thu,fri", "08:00", "17:00"),
    ("Frank Muller", 3, "servers,backup,m365,cloud", "tue,wed,thu,fri,sat", "08:00", "17:00"),
]

# (summary template, type, category, subcategory, skill, typical hours)
WORK = [
    ("Outlook keeps asking for password", "incident", "email", "outlook", "m365", 0.5),
    ("Printer on 2nd floor jams every page", "incident", "hardware", "printer", "printers", 1.0),
    (
        "New hire starting Monday: laptop and accounts",
        "service_request",
        "onboarding",
        "new user",
        "desktop",
        3.0,
    ),
    ("VPN drops every few minutes", "incident", "network", "vpn", "network", 2.0),
    ("Server backup job failed overnight", "incident", "backup", "job failure", "backup", 1.5),
    (
        "Shared mailbox access for accounting",
        "service_request",
        "email",
        "permissions",
        "m365",
        0.25,
    ),
    ("Phones ringing but no audio", "incident", "voip", "audio", "voip", 1.0),
    (
        "Replace failing disk in file server",
        "service_request",
        "hardware",
        "server",
        "servers",
        6.0,
    ),
    (
        "Suspicious login alert from Microsoft 365",
        "incident",
        "security",
        "account",
        "security",
        1.0,
    ),
    (
        "Install Adobe Acrobat on reception PC",
        "service_request",
        "software",
        "install",
        "desktop",
        0.25,
    ),
    ("Wi-Fi slow in the conference room", "incident", "network", "wifi", "network", 1.5),
    ("Firewall firmware upgrade", "service_request", "network", "firewall", "firewall", 5.0),
    (
        "Cannot open the practice management software",
        "incident",
        "software",
        "line of business",
        "desktop",
        1.0,
    ),
    (
        "Reset password for departing employee's account",
        "service_request",
        "accounts",
        "offboarding",
        "m365",
        0.25,
    ),
    (
        "Migrate file shares to SharePoint",
        "service_request",
        "projects",
        "migration",
        "cloud",
        16.0,
    ),
    (
        "Monitor: disk C: below 5% free on SRV01",
        "incident",
        "monitoring",
        "disk space",
        "servers",
        0.5,
    ),
    ("Scanner does not send to e-mail", "incident", "hardware", "scanner", "printers", 0.75),
    ("Quote for three new workstations", "service_request", "procurement", "quote", "desktop", 0.5),
]

NEW_ARRIVALS = [
    ("monitoring", "Monitor: CPU above 95% on SQL01 for 15 minutes"),
    ("email", "Can't print invoices, urgent before the 3pm pickup"),
    ("phone", "Whole office lost internet after the storm"),
    ("portal", "Please add Jamie to the Sales distribution list"),
    ("chat", "My second monitor stopped working"),
    ("email", "Re: quote for the new laptops - approved"),
    ("text", "Door badge reader offline at the clinic"),
]

STATUS_BY_AGE = [
    # (max age in days, statuses to draw from with weights)
    (2, [("triaged", 3), ("assigned", 5), ("in_progress", 4), ("waiting_client", 1)]),
    (
        7,
        [
            ("assigned", 3),
            ("in_progress", 3),
            ("waiting_client", 2),
            ("waiting_vendor", 1),
            ("on_hold", 1),
            ("resolved", 4),
        ],
    ),
    (
        30,
        [("in_progress", 1), ("waiting_client", 1), ("on_hold", 1), ("resolved", 5), ("closed", 8)],
    ),
    (None, [("resolved", 1), ("closed", 20)]),
]

#: Tickets generated between writes; bounds the generator's memory at any desk size.
FLUSH_EVERY = 10_000
#: Tickets estimated over this many hours get a first visit of this length booked.
CALL_HOURS = 4
#: How far ahead the demo books; a call that finds no room by then stays "to book".
CALL_WINDOW_DAYS = 14

OPEN_ASSIGNED = {"assigned", "in_progress", "waiting_client", "waiting_vendor", "on_hold"}


@dataclass(frozen=True)
class DemoSummary:
    clients: int
    technicians: int
    tickets: int
    new_tickets: int
    notes: int
    service_calls: int
    time_entries: int


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    # Pick by cumulative weight; cheaper than random.choices for one draw.
    total = sum(w for _, w in weighted)
    point = rng.random() * total
    for value, weight in weighted:
        point -= weight
        if point < 0:
            return value
    return weighted[-1][0]


def _business_moment(rng: random.Random, day: datetime) -> datetime:
    """A time during a US-central business day (14:00-23:00 UTC is 08:00-17:00 CST)."""
    return day.replace(hour=14, minute=0, second=0, microsecond=0) + timedelta(
        minutes=rng.randrange(0, 9 * 60)
    )


def generate(
    desk: Desk, *, tickets: int = 400, seed: int = 7, now: datetime | None = None
) -> DemoSummary:
    """Fill an empty database with a demo desk. Refuses a database that has tickets."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    new_count = min(len(NEW_ARRIVALS), max(1, tickets // 50))
    history = max(0, tickets - new_count)
    span_days = max(42, history // 20)
    with desk.db.write() as session:
        if queries.list_tickets(session, limit=1):
            from dispatch_tui.errors import InvalidInput

            raise InvalidInput(
                f"{desk.db.path} already holds tickets; demo needs an empty database"
            )
        write_setting(session, desk.actor, TIMEZONE, DEMO_TIMEZONE)

        client_ids: list[int] = []
        contacts_by_client: dict[int, list[int]] = {}
        for name, domain, people in CLIENTS:
            client = Client(
                name=name, domains=domain, created_at=now - timedelta(days=span_days + 30)
            )
            session.add(client)
            session.flush()
            client_ids.append(client.id or 0)
            for person in people:
                email = (
                    person.lower().replace(" ", ".").replace("dr.", "").strip(".") + "@" + domain
                )
                contact = Contact(
                    client_id=client.id or 0,
                    name=person,
                    email=email,
                    phone=f"555-{rng.randrange(1000, 9999)}",
                )
                session.add(contact)
                session.flush()
                contacts_by_client.setdefault(client.id or 0, []).append(contact.id or 0)

        tech_rows: list[Technician] = []
        for name, tier, skills, days, start, end in TECHS:
            tech = Technician(
                name=name,
                tier=tier,
                skills=skills,
                work_days=days,
                work_start=start,
                work_end=end,
                email=name.lower().replace(" ", ".") + "@msp.example",
            )
            session.add(tech)
            tech_rows.append(tech)
        session.flush()
        tech_ids = [t.id or 0 for t in tech_rows]
        techs_by_skill: dict[str, list[int]] = {}
        for tech in tech_rows:
            for skill in tech.skills.split(","):
                techs_by_skill.setdefault(skill, []).append(tech.id or 0)

        session.add_all(
            [
                Holiday(name="New Year's Day", rrule="FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1"),
                Holiday(name="Independence Day", rrule="FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4"),
                Holiday(name="Thanksgiving", rrule="FREQ=YEARLY;BYMONTH=11;BYDAY=+4TH"),
                Holiday(name="Christmas Day", rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"),
                Holiday(name="Company offsite", day=(now + timedelta(days=45)).date()),
            ]
        )
        ooo_start = (now + timedelta(days=7)).replace(hour=13, minute=0, second=0, microsecond=0)
        session.add(
            OutOfOffice(
                tech_id=tech_ids[1],
                starts_at=ooo_start,
                ends_at=ooo_start + timedelta(days=2),
                reason="training course",
            )
        )

        # The SLA met-by moments of every ticket, as triage would stamp them, under the
        # policy just written (time zone, holidays): one timeline for the whole span.
        session.flush()
        policy = load_policy(session)
        timeline = sla_stamps.timeline_for(
            policy.calendar, now - timedelta(days=span_days + 2), now
        )

        stamp = sla_stamps.stamp_of(policy)
        # Service calls go only where the Schedule screen itself would book them.
        calls = DemoCallBook(
            zone=policy.calendar.tz,
            first=now.date(),
            last=(now + timedelta(days=CALL_WINDOW_DAYS)).date(),
            length=timedelta(hours=CALL_HOURS),
            hours={
                tech.id or 0: WorkingHours.parse(tech.work_days, tech.work_start, tech.work_end)
                for tech in tech_rows
            },
            holidays=named_holidays(
                policy.calendar.holiday_rules,
                now.date(),
                (now + timedelta(days=CALL_WINDOW_DAYS)).date(),
            ),
            absences={
                tech_ids[1]: [
                    Absence(0, ooo_start, ooo_start + timedelta(days=2), "training course")
                ]
            },
        )

        def sla(created: datetime, priority: str | None) -> dict[str, Any]:
            due = sla_stamps.due_of(created, priority, policy, timeline, stamp)
            return sla_stamps.columns(due)

        first_id = 1
        totals = {"tickets": 0, "notes": 0, "calls": 0, "times": 0}
        ticket_rows: list[dict[str, Any]] = []
        note_rows: list[dict[str, Any]] = []
        call_rows: list[dict[str, Any]] = []
        time_rows: list[dict[str, Any]] = []
        queue_next: dict[int, int] = dict.fromkeys(tech_ids, 1)

        def flush() -> None:
            # Written in slices so a million-ticket desk never sits in memory at once.
            totals["tickets"] += bulk_insert(session, Ticket, ticket_rows)
            totals["notes"] += bulk_insert(session, Note, note_rows)
            totals["calls"] += bulk_insert(session, ServiceCall, call_rows)
            totals["times"] += bulk_insert(session, TimeEntry, time_rows)
            for rows in (ticket_rows, note_rows, call_rows, time_rows):
                rows.clear()

        # Built once, sorted, after the load (store/bulk.py says why); the SLA tally
        # likewise, by one count instead of a trigger call per ticket.
        deferred = drop_plain_indexes(session, (Ticket, Note, ServiceCall, TimeEntry))
        sla_tally.suspend(session.connection())
        for index in range(history):
            if len(ticket_rows) >= FLUSH_EVERY:
                flush()
            ticket_id = first_id + index
            age_days = rng.random() ** 1.6 * span_days
            created = _business_moment(rng, now - timedelta(days=age_days))
            created = min(created, now - timedelta(hours=1))
            summary, kind, category, subcategory, skill, hours = rng.choice(WORK)
            client_id = rng.choice(client_ids)
            status = next(
                _pick(rng, w) for limit, w in STATUS_BY_AGE if limit is None or age_days <= limit
            )
            impact = _pick(rng, [("low", 4), ("medium", 5), ("high", 1)])
            urgency = _pick(rng, [("low", 3), ("medium", 5), ("high", 2)])
            estimate = round(hours * rng.uniform(0.6, 1.5) * 4) / 4 or 0.25
            triaged = created + timedelta(minutes=rng.randrange(5, 95))
            tech_id = None
            position = None
            if status != "triaged":
                candidates = techs_by_skill.get(skill) or tech_ids
                tech_id = rng.choice(candidates)
                if status in OPEN_ASSIGNED:
                    position = queue_next[tech_id]
                    queue_next[tech_id] += 1
            engaged = triaged + timedelta(minutes=rng.randrange(10, 240)) if tech_id else None
            resolved = None
            closed = None
            if status in ("resolved", "closed"):
                resolved = min(
                    now, (engaged or triaged) + timedelta(hours=estimate * rng.uniform(1, 6))
                )
                if status == "closed":
                    closed = min(now, resolved + timedelta(days=rng.uniform(1, 4)))
            due = None
            if status == "on_hold" or (kind == "service_request" and rng.random() < 0.3):
                due = now + timedelta(days=rng.randrange(-2, 14))
            ticket_rows.append(
                {
                    "id": ticket_id,
                    "client_id": client_id,
                    "contact_id": rng.choice(contacts_by_client[client_id]),
                    "channel": _pick(
                        rng,
                        [
                            ("email", 6),
                            ("phone", 4),
                            ("portal", 2),
                            ("chat", 1),
                            ("text", 1),
                            ("monitoring", 2),
                        ],
                    ),
                    "summary": summary,
                    "description": f"{summary}. Reported by the client.",
                    "status": status,
                    "ticket_type": kind,
                    "category": category,
                    "subcategory": subcategory,
                    "impact": impact,
                    "urgency": urgency,
                    "priority": compute_priority(impact, urgency, kind, estimate),
                    "estimate_hours": estimate,
                    "required_skill": skill,
                    "due_at": due,
                    "assigned_tech_id": tech_id,
                    "queue_position": position,
                    "escalated": status in OPEN_ASSIGNED and rng.random() < 0.03,
                    "escalated_to": None,
                    "source_ref": None,
                    "created_at": created,
                    "triaged_at": triaged,
                    "first_response_at": triaged,
                    "engaged_at": engaged,
                    "resolved_at": resolved,
                    # A bulk insert fires no ORM hook: the flag and the latest note's
                    # time are set with the notes below.
                    "resolution_noted": bool(resolved),
                    "last_note_at": max(triaged, resolved or triaged),
                    "last_note_known": True,
                    "closed_at": closed,
                    "updated_at": closed or resolved or engaged or triaged,
                    "updated_by": "demo",
                    "version": 1,
                }
            )
            ticket_rows[-1].update(sla(created, ticket_rows[-1]["priority"]))
            if ticket_rows[-1]["escalated"]:
                ticket_rows[-1]["escalated_to"] = "tier3"
            note_rows.append(
                {
                    "ticket_id": ticket_id,
                    "kind": "internal",
                    "author": "demo",
                    "body": "Spoke with the client; confirmed the details above.",
                    "created_at": triaged,
                }
            )
            if resolved:
                note_rows.append(
                    {
                        "ticket_id": ticket_id,
                        "kind": "resolution",
                        "author": "demo",
                        "body": "Fixed and confirmed with the client.",
                        "created_at": resolved,
                    }
                )
            if tech_id and (status in OPEN_ASSIGNED or age_days < 30):
                started = engaged or triaged
                worked = round(max(0.25, estimate * rng.uniform(0.5, 1.2)) * 4) / 4
                time_rows.append(
                    {
                        "ticket_id": ticket_id,
                        "tech_id": tech_id,
                        "started_at": started,
                        "hours": worked,
                        "billable": rng.random() < 0.85,
                        "note": "Worked the ticket.",
                        "approved_at": started + timedelta(days=1) if age_days > 3 else None,
                        "approved_by": "demo" if age_days > 3 else None,
                        "created_at": started,
                        "version": 1,
                    }
                )
            if tech_id and estimate > CALL_HOURS and status in OPEN_ASSIGNED:
                day = now + timedelta(days=rng.randrange(1, 10))
                wanted = _business_moment(rng, day).replace(minute=0)
                firm = rng.random() < 0.7
                start = calls.book(tech_id, wanted)
            else:
                start = None
            if tech_id and start is not None:
                call_rows.append(
                    {
                        "ticket_id": ticket_id,
                        "tech_id": tech_id,
                        "starts_at": start,
                        "ends_at": start + timedelta(hours=CALL_HOURS),
                        "firm": firm,
                        "override_reason": None,
                        "created_by": "demo",
                        "created_at": triaged,
                        "version": 1,
                    }
                )

        for offset, (channel, summary) in enumerate(NEW_ARRIVALS[:new_count]):
            client_id = rng.choice(client_ids)
            created = now - timedelta(minutes=rng.randrange(3, 80))
            ticket_rows.append(
                {
                    "id": first_id + history + offset,
                    "client_id": client_id,
                    "contact_id": rng.choice(contacts_by_client[client_id]),
                    "channel": channel,
                    "summary": summary,
                    "description": f"{summary}\n\nSent from the client's {channel}.",
                    "status": "new",
                    "created_at": created,
                    "updated_at": now,
                    "updated_by": "demo",
                    "version": 1,
                    "escalated": False,
                }
            )
            ticket_rows[-1].update(sla(created, None))

        flush()
        rebuild_indexes(session, deferred)
        sla_tally.rebuild(session.connection())
        sla_tally.resume(session.connection())
        audit.record(
            session,
            desk.actor,
            "demo.generate",
            "database",
            None,
            f"{totals['tickets']} tickets, seed {seed}",
        )
    return DemoSummary(
        clients=len(CLIENTS),
        technicians=len(TECHS),
        tickets=totals["tickets"],
        new_tickets=new_count,
        notes=totals["notes"],
        service_calls=totals["calls"],
        time_entries=totals["times"],
    )
