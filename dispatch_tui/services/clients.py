"""Finding or creating clients and contacts by the names a dispatcher types."""

from __future__ import annotations

from sqlmodel import Session

from dispatch_tui.errors import InvalidInput
from dispatch_tui.services import audit
from dispatch_tui.store import queries
from dispatch_tui.store.models import Client, Contact


def ensure_client(session: Session, actor: str, name: str) -> Client:
    name = name.strip()
    if not name:
        raise InvalidInput("a client name is required")
    client = queries.find_client(session, name)
    if client is None:
        client = Client(name=name)
        session.add(client)
        session.flush()
        audit.record(session, actor, "client.create", "client", client.id, name)
    return client


def ensure_contact(session: Session, actor: str, client: Client, name: str) -> Contact:
    name = name.strip()
    contact = queries.find_contact(session, client.id or 0, name)
    if contact is None:
        email = name if "@" in name else ""
        contact = Contact(client_id=client.id or 0, name=name, email=email)
        session.add(contact)
        session.flush()
        audit.record(
            session, actor, "contact.create", "contact", contact.id, f"{name} at {client.name}"
        )
    return contact
