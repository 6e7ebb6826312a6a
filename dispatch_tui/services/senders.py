"""Filing a message's sender: the contact by e-mail address, the client by domain.

A sender's address finds their contact; a new address is filed under the client
whose ``domains`` list the sender's domain, else the client of a colleague with the
same domain, else "Unknown client", which triage fixes.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from dispatch_tui.services import audit
from dispatch_tui.services.clients import ensure_client
from dispatch_tui.store.models import Client, Contact

UNKNOWN_CLIENT = "Unknown client"

#: Mailbox providers anyone can sign up to: two gmail.com senders are not one client.
PUBLIC_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "proton.me",
        "protonmail.com",
        "zoho.com",
        "mail.com",
        "yandex.com",
        "fastmail.com",
        "hey.com",
        "comcast.net",
        "verizon.net",
        "att.net",
    }
)


def find_contact_by_email(session: Session, email: str) -> Contact | None:
    return session.exec(
        select(Contact).where(func.lower(Contact.email) == email.lower()).order_by(col(Contact.id))
    ).first()


def client_for_domain(session: Session, domain: str) -> Client | None:
    """The client that owns ``domain`` (or a parent of it), by its domains, then its contacts."""
    domain = domain.lower()
    # A shop has tens or hundreds of clients, few with domains: matching the
    # comma-separated lists here is simpler and exact, where LIKE would not be.
    candidates = session.exec(select(Client).where(Client.domains != "")).all()
    for client in sorted(candidates, key=lambda c: c.id or 0):
        owned = {d.strip().lower().lstrip("@") for d in client.domains.split(",") if d.strip()}
        if any(domain == d or domain.endswith("." + d) for d in owned):
            return client
    if domain in PUBLIC_DOMAINS:
        return None
    colleague = session.exec(
        select(Contact)
        .join(Client, Client.id == Contact.client_id)
        .where(func.lower(Contact.email).endswith("@" + domain), Client.name != UNKNOWN_CLIENT)
        .order_by(col(Contact.id))
    ).first()
    return session.get(Client, colleague.client_id) if colleague else None


def sender_client_id(session: Session, email: str | None) -> int | None:
    """The client a sender belongs to, without creating anything (None when unknown)."""
    if not email:
        return None
    contact = find_contact_by_email(session, email)
    if contact is not None:
        return contact.client_id
    client = client_for_domain(session, email.rsplit("@", 1)[1])
    return client.id if client else None


def resolve_sender(
    session: Session, actor: str, name: str, email: str | None
) -> tuple[Client, Contact | None]:
    """The client and contact for a sender, creating the contact (and client) when new."""
    if email:
        contact = find_contact_by_email(session, email)
        if contact is not None:
            client = session.get(Client, contact.client_id)
            assert client is not None
            return client, contact
    client = client_for_domain(session, email.rsplit("@", 1)[1]) if email else None
    client = client or ensure_client(session, actor, UNKNOWN_CLIENT)
    if not email and not name:
        return client, None
    contact = Contact(client_id=client.id or 0, name=name or email or "", email=email or "")
    session.add(contact)
    session.flush()
    audit.record(
        session,
        actor,
        "contact.create",
        "contact",
        contact.id,
        f"{contact.name} at {client.name} (from e-mail)",
        after=audit.snapshot(contact, ("client_id", "name", "email")),
    )
    return client, contact
