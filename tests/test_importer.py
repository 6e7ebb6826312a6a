"""The mail importer against a real database: every field of every corpus message,
threading, de-duplication, mbox and Maildir, and the watcher."""

from __future__ import annotations

import mailbox
import os
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from dispatch_tui.mail import MailWatcher, parse_message
from dispatch_tui.services import Desk
from dispatch_tui.services.importer import (
    ImportSummary,
    Outcome,
    import_mail,
    import_message,
    watch_imports,
)
from dispatch_tui.store import queries
from dispatch_tui.store.models import AuditEvent, Client, Contact, Note, Technician, Ticket
from dispatch_tui.store.types import utcnow

CORPUS = Path(__file__).parent / "fixtures" / "mail"
EMLS = sorted(CORPUS.glob("*.eml"))


@pytest.fixture
def shop(desk: Desk) -> Desk:
    """Two known clients: one by its domain list, one by a known contact's address."""
    with desk.db.write() as session:
        session.add(Client(name="Harbor Dental", domains="harbordental.com, hd-clinic.com"))
        acme = Client(name="Acme Logistics")
        session.add(acme)
        session.flush()
        session.add(Contact(client_id=acme.id or 0, name="Pat Lee", email="Pat@Acme-Logistics.com"))
    return desk


def detail(desk: Desk, ticket_id: int) -> queries.TicketDetail:
    with desk.db.read() as session:
        found = queries.ticket_detail(session, ticket_id)
    assert found is not None
    return found


def count(desk: Desk, model: type) -> int:
    with desk.db.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def as_maildir(tmp_path: Path) -> Path:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for path in EMLS:
        box.add(path.read_bytes())
    return tmp_path / "Maildir"


EXPECTED = {"imported": 11, "threaded": 1, "already": 2, "failed": 1, "flagged": 1}


def counts(summary: ImportSummary) -> dict[str, int]:
    return {k: getattr(summary, k) for k in EXPECTED}


def test_folder_import_summary_and_the_broken_file(shop: Desk) -> None:
    seen = []
    summary = import_mail(shop, CORPUS, on_result=seen.append)
    assert counts(summary) == EXPECTED
    assert [r.outcome for r in seen].count(Outcome.IMPORTED) == 11
    assert len(summary.failures) == 1
    failure = summary.failures[0]
    assert failure.label == str(CORPUS / "12-broken.eml")
    assert failure.detail == "not an e-mail message (no From, Subject, Date or Message-ID)"
    assert summary.line() == (
        "imported 11, threaded 1, already imported 2, failed 1 (1 flagged as possible duplicates)"
    )
    assert summary.as_dict()["failures"] == [
        {"source": str(CORPUS / "12-broken.eml"), "reason": failure.detail}
    ]


@pytest.mark.parametrize("source", ["folder", "mbox", "maildir"])
def test_every_field_of_every_message(shop: Desk, tmp_path: Path, source: str) -> None:
    path = {"folder": CORPUS, "mbox": CORPUS / "corpus.mbox"}.get(source) or as_maildir(tmp_path)
    before = utcnow()
    assert counts(import_mail(shop, path)) == EXPECTED
    after = utcnow()
    assert count(shop, Ticket) == 11

    t1 = detail(shop, 1)
    assert t1.ticket.summary == "Drucker im Büro – Fehler 0x80070005"
    assert t1.ticket.description.startswith("Hallo,\n\nder Drucker im Büro druckt nicht mehr.")
    assert (t1.client, t1.contact, t1.contact_email) == (
        "Harbor Dental",
        "Zoë Müller",
        "zoe@harbordental.com",
    )
    assert (t1.ticket.channel, t1.ticket.status) == ("email", "new")
    assert t1.ticket.created_at == datetime(2026, 3, 2, 7, 15, tzinfo=UTC)
    assert t1.ticket.source_ref == "<m1.zoe@harbordental.com>"
    assert t1.ticket.possible_duplicate_of is None
    # The tagged reply (07) became a client note on #1, dated when it was sent.
    [reply] = t1.notes
    assert (reply.kind, reply.author) == ("client", "Zoë Müller <zoe@harbordental.com>")
    assert (
        reply.body
        == "Es geht wieder nicht – gleiche Meldung.\n\n> Wir haben den Treiber neu installiert."
    )
    assert reply.created_at == datetime(2026, 3, 4, 15, 20, tzinfo=UTC)

    t2 = detail(shop, 2)
    assert (t2.ticket.summary, t2.client, t2.contact) == (
        "Contraseña caducada",
        "Acme Logistics",
        "José García",
    )
    assert t2.ticket.description == "La contraseña de José ha caducado. ¿Pueden ayudar?"
    assert t2.ticket.created_at == datetime(2026, 3, 2, 14, 40, tzinfo=UTC)
    assert t2.notes == []

    t3 = detail(shop, 3)
    assert (t3.client, t3.contact, t3.contact_email) == (
        "Acme Logistics",
        "Pat Lee",
        "Pat@Acme-Logistics.com",
    )
    assert t3.ticket.description == "The VPN “drops” every hour – we lose €200 of work each time."

    t4 = detail(shop, 4)
    assert (t4.ticket.summary, t4.client, t4.contact) == (
        "プリンターが動きません",
        "Unknown client",
        "田中太郎",
    )
    assert t4.ticket.description == "プリンターが動きません。\n至急お願いします。"
    assert t4.ticket.created_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)

    t5 = detail(shop, 5)
    assert (t5.client, t5.contact) == ("Harbor Dental", "ops@harbordental.com")
    assert "alert" not in t5.ticket.description and "- VPN access" in t5.ticket.description
    assert [n.body for n in t5.notes] == [
        "The message had no plain-text part; its HTML was converted to text."
    ]
    assert t5.notes[0].kind == "internal"

    t6 = detail(shop, 6)
    assert (
        t6.ticket.description == "The scanner says the invoice is unreadable. Two files attached."
    )
    assert [(n.kind, n.body) for n in t6.notes] == [
        (
            "internal",
            "Attachments (not stored; ask the sender or open the original mail):\n"
            "- invoice 2026-03.pdf (1.5 KB, application/pdf)\n"
            "- écran.png (300 B, image/png)",
        )
    ]

    t7 = detail(shop, 7)  # no Message-ID: imported once although it is in the corpus twice
    assert t7.ticket.summary == "Phones ring but no audio"
    assert t7.ticket.source_ref and t7.ticket.source_ref.startswith("sha256:")
    assert (t7.client, t7.contact) == ("Harbor Dental", "Front Desk")

    t8 = detail(shop, 8)
    assert t8.ticket.summary == "VPN drops every hour!"
    assert t8.ticket.possible_duplicate_of == 3
    assert t8.contact == "Pat Lee" and t8.ticket.status == "new"
    assert "Possibly the same request as #3" in t8.notes[0].body

    t9 = detail(shop, 9)  # hostile text, stored exactly as received; gmail is nobody's domain
    assert t9.ticket.summary == "[bold]x[/] \x1b[2J urgent"
    assert t9.ticket.description == "\x1b]0;pwned\x07[red]alert[/red] \x1b[31mred\x1b[0m"
    assert t9.client == "Unknown client"

    t10 = detail(shop, 10)
    full_subject = " ".join(f"word{i:03d}" for i in range(34))
    assert len(t10.ticket.summary) <= 200 and t10.ticket.summary.endswith("…")
    assert t10.ticket.description == f"Subject: {full_subject}\n\nSee subject."
    assert before <= t10.ticket.created_at <= after
    assert "no Date header; received-at set to the import time" in t10.notes[0].body

    t11 = detail(shop, 11)
    assert (t11.ticket.summary, t11.contact, t11.client) == ("Café Wi-Fi", "René", "Harbor Dental")
    assert t11.ticket.description == "Le Wi-Fi du café est coupé."
    assert "'yesterday-ish' is unreadable" in t11.notes[0].body

    # One Unknown client, created once; contacts created for new senders only.
    with shop.db.read() as session:
        names = session.exec(select(Client.name).order_by(Client.name)).all()
        assert names == ["Acme Logistics", "Harbor Dental", "Unknown client"]
        pats = session.exec(
            select(func.count()).select_from(Contact).where(Contact.name == "Pat Lee")
        ).one()
        assert pats == 1


def test_reimporting_changes_nothing(shop: Desk) -> None:
    import_mail(shop, CORPUS)
    tables = {m: count(shop, m) for m in (Ticket, Note, Contact, Client, AuditEvent)}
    again = import_mail(shop, CORPUS)
    assert counts(again) == {"imported": 0, "threaded": 0, "already": 14, "failed": 1, "flagged": 0}
    assert {m: count(shop, m) for m in tables} == tables
    # The same mail through another container is the same mail.
    assert import_mail(shop, CORPUS / "corpus.mbox").already == 14


def test_every_change_is_audited(shop: Desk) -> None:
    import_mail(shop, CORPUS)
    with shop.db.read() as session:
        actions = session.exec(select(AuditEvent.action, func.count()).group_by(AuditEvent.action))
        by_action = dict(actions.all())
        actors = set(session.exec(select(AuditEvent.actor)).all())
    notes = count(shop, Note)
    assert by_action["ticket.create"] == 11
    assert by_action["note.create"] == notes
    assert by_action["client.create"] == 1  # Unknown client
    assert by_action["contact.create"] == 7  # every new sender, once
    assert actors == {"tester"}


def message(subject: str, *, sender: str = "zoe@harbordental.com", mid: str = "", extra: str = ""):
    mid = mid or f"<{abs(hash((subject, sender, extra)))}@test>"
    raw = (
        f"From: {sender}\nSubject: {subject}\nDate: Mon, 02 Mar 2026 09:00:00 +0000\n"
        f"Message-ID: {mid}\n{extra}\nbody of {subject}\n"
    )
    return parse_message(raw.encode())


def set_status(desk: Desk, ticket_id: int, status: str, *, tech: bool) -> None:
    with desk.db.write() as session:
        tech_id = None
        if tech:
            technician = Technician(name=f"Tech {ticket_id}")
            session.add(technician)
            session.flush()
            tech_id = technician.id
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.status, ticket.assigned_tech_id = status, tech_id
        ticket.resolved_at = utcnow() if status == "resolved" else None
        session.add(ticket)


@pytest.mark.parametrize(
    ("status", "tech", "after"),
    [
        ("resolved", True, "in_progress"),
        ("resolved", False, "triaged"),
        ("waiting_client", True, "in_progress"),
        ("in_progress", True, "in_progress"),
        ("on_hold", False, "on_hold"),
        ("new", False, "new"),
    ],
)
def test_a_reply_wakes_a_resolved_or_waiting_ticket(
    shop: Desk, status: str, tech: bool, after: str
) -> None:
    first = import_message(shop, message("Screen flickers"))
    set_status(shop, first.ticket_id or 0, status, tech=tech)
    reply = import_message(shop, message(f"Re: [#{first.ticket_id}] Screen flickers", extra="X: 1"))
    assert (reply.outcome, reply.ticket_id) == (Outcome.THREADED, first.ticket_id)
    t = detail(shop, first.ticket_id or 0)
    assert t.ticket.status == after
    assert [n.kind for n in t.notes] == ["client"]
    if after != status:
        assert reply.detail == f"reopened: {status} -> {after}"
        assert t.ticket.resolved_at is None
        with shop.db.read() as session:
            event = session.exec(
                select(AuditEvent).where(AuditEvent.action == "ticket.reopen")
            ).one()
        assert event.entity_id == first.ticket_id and f'"status": "{after}"' in (event.after or "")


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(shop: Desk) -> None:
    first = import_message(shop, message("Screen flickers"))
    set_status(shop, first.ticket_id or 0, "closed", tech=False)
    reply = import_message(shop, message(f"Re: [#{first.ticket_id}] Screen flickers", extra="X: 1"))
    assert reply.outcome is Outcome.IMPORTED and reply.ticket_id != first.ticket_id
    assert reply.detail == f"follow-up of closed ticket #{first.ticket_id}"
    new = detail(shop, reply.ticket_id or 0)
    assert new.ticket.status == "new" and new.ticket.possible_duplicate_of is None
    assert f"Follow-up of closed ticket #{first.ticket_id}" in new.notes[0].body
    assert detail(shop, first.ticket_id or 0).ticket.status == "closed"


def test_a_reply_without_a_tag_threads_by_in_reply_to(shop: Desk) -> None:
    first = import_message(shop, message("Scanner offline", mid="<orig@harbordental.com>"))
    reply = import_message(
        shop, message("Re: Scanner offline", extra="In-Reply-To: <orig@harbordental.com>")
    )
    assert (reply.outcome, reply.ticket_id) == (Outcome.THREADED, first.ticket_id)
    # A reply to that reply finds the ticket through the note's Message-ID.
    again = import_message(
        shop,
        message(
            "Re: Re: Scanner offline",
            mid="<r2@x>",
            extra=f"References: <orig@harbordental.com> {reply_mid(shop)}",
        ),
    )
    assert again.ticket_id == first.ticket_id


def reply_mid(desk: Desk) -> str:
    with desk.db.read() as session:
        return session.exec(select(Note.source_ref).where(Note.kind == "client")).first() or ""


def test_a_reply_from_a_stranger_is_threaded_with_a_warning(shop: Desk) -> None:
    first = import_message(shop, message("Screen flickers"))
    import_message(shop, message(f"[#{first.ticket_id}] ha", sender="eve@elsewhere.example"))
    notes = detail(shop, first.ticket_id or 0).notes
    assert [n.kind for n in notes] == ["client", "internal"]
    assert "eve@elsewhere.example, who is not a known contact of Harbor Dental" in notes[1].body


def test_a_tag_naming_no_ticket_makes_a_new_one(shop: Desk) -> None:
    result = import_message(shop, message("Re: [#999] lost"))
    assert result.outcome is Outcome.IMPORTED and result.ticket_id == 1


def test_a_date_in_the_future_is_replaced_by_now(shop: Desk) -> None:
    future = (utcnow() + timedelta(days=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    parsed = parse_message(f"From: a@harbordental.com\nSubject: x\nDate: {future}\n\nx".encode())
    result = import_message(shop, parsed)
    t = detail(shop, result.ticket_id or 0)
    assert t.ticket.created_at <= utcnow()
    assert "lies in the future" in t.notes[0].body


def test_similar_subjects_far_apart_or_from_others_are_not_flagged(shop: Desk) -> None:
    import_message(shop, message("VPN down"))
    other = import_message(shop, message("VPN down", sender="ops@harbordental.com"))
    assert other.possible_duplicate_of is None
    raw = (
        "From: zoe@harbordental.com\nSubject: VPN down\nDate: Fri, 06 Mar 2026 09:00:00 +0000\n\nx"
    )
    assert import_message(shop, parse_message(raw.encode())).possible_duplicate_of is None


def test_one_failing_message_does_not_stop_the_rest(
    shop: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("01-utf8-qp.eml", "02-latin1-base64.eml", "03-cp1252-8bit.eml"):
        shutil.copy(CORPUS / name, folder / name)
    from dispatch_tui.services import importer

    real = importer._new_ticket

    def explode_on_jose(session, actor, message, now, *, follow_up_of):
        if message.from_email == "jose@acme-logistics.com":
            raise ValueError("boom")
        return real(session, actor, message, now, follow_up_of=follow_up_of)

    monkeypatch.setattr(importer, "_new_ticket", explode_on_jose)
    summary = import_mail(shop, folder)
    assert (summary.imported, summary.failed) == (2, 1)
    assert summary.failures[0].detail == "not imported (ValueError: boom)"
    # Nothing of the failed message was half-written (its contact neither).
    with shop.db.read() as session:
        assert session.exec(select(Contact).where(Contact.name == "José García")).first() is None


# -- watching ----------------------------------------------------------------------


def test_folder_watcher_returns_new_settled_files_once(tmp_path: Path) -> None:
    now = [1_000_000.0]
    watcher = MailWatcher(tmp_path, settle=1.0, clock=lambda: now[0])
    assert watcher.poll() == []
    target = tmp_path / "a.eml"
    shutil.copy(CORPUS / "01-utf8-qp.eml", target)
    os.utime(target, (now[0], now[0]))
    assert watcher.poll() == []  # still being written, as far as we can tell
    now[0] += 2
    (tmp_path / "notes.txt").write_text("not mail")
    assert [i.key for i in watcher.poll()] == ["a.eml"]
    assert watcher.poll() == []
    item = MailWatcher(tmp_path, settle=0).poll()[0]
    watcher.forget(item)
    assert [i.key for i in watcher.poll()] == ["a.eml"]


def test_maildir_watcher_sees_new_deliveries(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "md", create=True)
    box.add((CORPUS / "01-utf8-qp.eml").read_bytes())
    watcher = MailWatcher(tmp_path / "md")
    assert len(watcher.poll()) == 1
    key = box.add((CORPUS / "02-latin1-base64.eml").read_bytes())
    assert [i.key for i in watcher.poll()] == [key]
    assert watcher.poll() == []


def test_watcher_refuses_a_single_file(tmp_path: Path) -> None:
    from dispatch_tui.errors import InvalidInput

    with pytest.raises(InvalidInput, match="--watch needs a folder or a Maildir"):
        MailWatcher(CORPUS / "corpus.mbox")


def test_watch_imports_yields_arrivals_until_stopped(shop: Desk, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "md", create=True)
    box.add((CORPUS / "01-utf8-qp.eml").read_bytes())
    stop = threading.Event()
    results = []
    for result in watch_imports(shop, tmp_path / "md", stop=stop, interval=0.01):
        results.append(result)
        if len(results) == 1:
            box.add((CORPUS / "07-reply-tagged.eml").read_bytes())  # arrives while watching
        else:
            stop.set()
    assert [r.outcome for r in results] == [Outcome.IMPORTED, Outcome.THREADED]
    assert count(shop, Note) == 1


def test_watch_stops_from_another_thread_while_idle(shop: Desk, tmp_path: Path) -> None:
    stop = threading.Event()
    results: list = []
    worker = threading.Thread(
        target=lambda: results.extend(watch_imports(shop, tmp_path, stop=stop, interval=60))
    )
    worker.start()
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive() and results == []


def test_a_reply_that_reopens_a_ticket_keeps_its_resolution_note_flag(shop: Desk) -> None:
    # The health check reads ticket.resolution_noted (schema 4): reopening by a reply and
    # resolving again leaves the resolution note, so the ticket is not listed again.
    from dispatch_tui.services import followup, health

    first = import_message(shop, message("Screen flickers"))
    ticket_id = first.ticket_id or 0
    set_status(shop, ticket_id, "resolved", tech=True)

    def unnoted() -> tuple[int, ...]:
        return health.run_check(shop, "resolved_without_resolution_note").ticket_ids

    assert unnoted() == (ticket_id,)
    followup.add_note(shop, ticket_id, kind="resolution", text="New cable")
    assert unnoted() == ()
    reply = import_message(shop, message(f"Re: [#{ticket_id}] Screen flickers", extra="X: 1"))
    assert reply.detail.startswith("reopened")
    set_status(shop, ticket_id, "resolved", tech=False)
    assert unnoted() == ()
    with shop.db.read() as session:
        assert session.get(Ticket, ticket_id).resolution_noted


def test_a_maildir_imports_in_delivery_order_even_where_its_names_sort_otherwise(
    shop: Desk, tmp_path: Path
) -> None:
    # Maildir names lead with the delivery second, then an unpadded microsecond and
    # counter: as text, the second delivery (M123456, Q10) sorts before the first.
    box = tmp_path / "Maildir"
    for folder in ("new", "cur", "tmp"):
        (box / folder).mkdir(parents=True)
    delivered = [
        ("1700000000.M99999P412Q9.host", "First of the morning"),
        ("1700000000.M123456P412Q10.host", "Second, same second"),
        ("1700000001.M5P412Q11.host", "Third, a second later"),
    ]
    for name, subject in delivered:
        (box / "new" / name).write_bytes(
            f"From: Zoe <zoe@harbordental.com>\nSubject: {subject}\n"
            f"Message-ID: <{name}@test>\nDate: Mon, 2 Mar 2026 07:15:00 +0000\n\nHello\n".encode()
        )
    assert sorted(name for name, _ in delivered) != [name for name, _ in delivered]

    import_mail(shop, box)

    with shop.db.read() as session:
        summaries = session.exec(select(Ticket.summary).order_by(Ticket.id)).all()
    assert summaries == [subject for _, subject in delivered]
