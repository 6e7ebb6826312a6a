"""Small look-ups behind the intake and triage forms: completions as the dispatcher types.

Each is one short, bounded read, cheap enough to run per key press on a worker thread.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from dispatch_tui.services.desk import Desk
from dispatch_tui.store import queries
from dispatch_tui.store.models import Contact


def suggest_client(desk: Desk, prefix: str) -> str | None:
    """The first known client (alphabetically) whose name starts with ``prefix``."""
    if not prefix.strip():
        return None
    with desk.db.read() as session:
        found = queries.list_clients(session, prefix=prefix, limit=1)
    return found[0].name if found else None


def client_known(desk: Desk, name: str) -> bool:
    """Whether saving with this client name reuses a client rather than creating one."""
    with desk.db.read() as session:
        return queries.find_client(session, name.strip()) is not None


def suggest_contact(desk: Desk, client: str, prefix: str) -> str | None:
    """The first contact of ``client`` whose name starts with ``prefix``.

    Only within the client: suggesting another company's person would put the
    ticket under the wrong contact without anyone noticing.
    """
    if not prefix.strip() or not client.strip():
        return None
    with desk.db.read() as session:
        owner = queries.find_client(session, client.strip())
        if owner is None:
            return None
        return session.exec(
            select(Contact.name)
            .where(
                Contact.client_id == owner.id,
                func.lower(Contact.name).startswith(prefix.lower()),
            )
            .order_by(col(Contact.name))
            .limit(1)
        ).first()


def known_skills_in(session: Session) -> list[str]:
    """Every skill an active technician has, sorted: the words "required skill" should use."""
    stored = queries.active_skills(session)
    skills = {s.strip().lower() for text in stored for s in text.split(",") if s.strip()}
    return sorted(skills)
