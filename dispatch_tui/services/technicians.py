"""Adding and listing technicians."""

from __future__ import annotations

from dispatch_tui.errors import InvalidInput
from dispatch_tui.services import audit
from dispatch_tui.services.desk import Desk
from dispatch_tui.store import queries
from dispatch_tui.store.models import Technician

TIERS = (1, 2, 3)


def normalise_skills(skills: str | list[str]) -> str:
    items = skills.split(",") if isinstance(skills, str) else skills
    cleaned = sorted({s.strip().lower() for s in items if s.strip()})
    return ",".join(cleaned)


def add_technician(
    desk: Desk, *, name: str, tier: int, skills: str = "", email: str = ""
) -> Technician:
    name = name.strip()
    if not name:
        raise InvalidInput("a technician name is required")
    if tier not in TIERS:
        raise InvalidInput(f"tier must be 1, 2 or 3, not {tier}")
    with desk.db.write() as session:
        if queries.find_technician(session, name) is not None:
            raise InvalidInput(f"a technician named {name!r} already exists")
        tech = Technician(name=name, tier=tier, skills=normalise_skills(skills), email=email)
        session.add(tech)
        session.flush()
        audit.record(
            session,
            desk.actor,
            "technician.create",
            "technician",
            tech.id,
            name,
            after=audit.snapshot(tech, ("name", "tier", "skills")),
        )
    return tech


def list_technicians(desk: Desk, *, include_inactive: bool = False) -> list[Technician]:
    with desk.db.read() as session:
        return queries.list_technicians(session, include_inactive=include_inactive)
