"""CSV import and CSV/JSON export: round trips, bad rows by line, streaming in batches."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from dispatch_tui.errors import InvalidInput
from dispatch_tui.services import Desk, exporter
from dispatch_tui.services.csv_import import import_csv
from dispatch_tui.services.importer import import_mail
from dispatch_tui.services.spreadsheet import guard, unguard
from dispatch_tui.store import Database
from dispatch_tui.store.models import Technician, Ticket, TimeEntry
from dispatch_tui.store.types import utcnow

TZ = ZoneInfo("America/Chicago")
CORPUS = Path(__file__).parent / "fixtures" / "mail"
SHARED = ("client", "contact", "contact_email", "summary", "description", "channel",
          "received_at", "source_ref")  # fmt: skip


def export_csv(desk: Desk, **kwargs) -> str:
    out = io.StringIO()
    exporter.write_csv(exporter.ticket_rows(desk, TZ, **kwargs), exporter.TICKET_COLUMNS, out)
    return out.getvalue()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def other_desk(tmp_path: Path):
    database = Database(tmp_path / "other.db", create=True)
    yield Desk(database, "importer")
    database.dispose()


def test_exported_tickets_import_back_into_another_desk(
    desk: Desk, other_desk: Desk, tmp_path: Path
) -> None:
    import_mail(desk, CORPUS)
    with desk.db.write() as session:  # formula-looking and hostile text must survive too
        ticket = session.get(Ticket, 2)
        assert ticket is not None
        ticket.summary = '=HYPERLINK("http://evil","x")'
        ticket.description = "-1 \x1b[31m[bold]red[/]\x1b[0m\n'=quoted"
        session.add(ticket)
    exported = export_csv(desk)
    assert rows_of(exported)[1]["summary"] == '\'=HYPERLINK("http://evil","x")'
    summary = import_csv(other_desk, write(tmp_path, exported), TZ)
    assert (summary.imported, summary.failed, summary.unknown_columns) == (11, 0, [])
    again = rows_of(export_csv(other_desk))
    original = rows_of(exported)
    for before, after in zip(original, again, strict=True):
        assert {k: after[k] for k in SHARED} == {k: before[k] for k in SHARED}
        assert after["status"] == "new" and after["channel"] == "email"
    with other_desk.db.read() as session:
        t2 = session.get(Ticket, 2)
    assert t2 is not None and t2.summary == '=HYPERLINK("http://evil","x")'
    assert t2.description == "-1 \x1b[31m[bold]red[/]\x1b[0m\n'=quoted"
    assert t2.created_at == datetime(2026, 3, 2, 14, 40, tzinfo=UTC)
    # The source_ref came along: the same mail arriving later is already known.
    assert import_mail(other_desk, CORPUS).imported == 0


def test_reimporting_a_csv_adds_nothing(desk: Desk, tmp_path: Path) -> None:
    path = write(tmp_path, "Client,Summary\nAcme,Printer jams\nAcme,Scanner\n")
    assert import_csv(desk, path, TZ).imported == 2
    again = import_csv(desk, path, TZ)
    assert (again.imported, again.already) == (0, 2)


def test_bad_rows_are_reported_by_line_and_good_rows_still_import(
    desk: Desk, tmp_path: Path
) -> None:
    future = (utcnow() + timedelta(days=2)).astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    text = "\n".join(
        [
            "client,contact,Summary,description,channel,Received At,colour",
            "Acme,Jo,Printer jams,,phone,2026-03-02 08:40,red",          # 2 good
            'Acme,Jo,Multi-line,"line one\nline two",email,,',           # 3-4 good
            "Acme,Jo,,no summary,phone,,",                               # 5
            "Acme,Jo,Fax,,pigeon,,",                                     # 6
            "Acme,Jo,Late,,phone,not a date,",                           # 7
            f"Acme,Jo,Soon,,phone,{future},",                            # 8
            ",Jo,No client,,phone,,",                                    # 9
            "Acme,Jo,Too many,,phone,,,extra",                           # 10
            "",
            "Harbor,\"Ann\",Wi-Fi down,,chat,2026-03-02T08:40:00+00:00,",  # 12 good
        ]
    )  # fmt: skip
    summary = import_csv(desk, write(tmp_path, text), TZ)
    assert (summary.imported, summary.failed) == (3, 6)
    assert summary.unknown_columns == ["colour"]
    assert [line for line, _ in summary.errors] == [5, 6, 7, 8, 9, 10]
    reasons = dict(summary.errors)
    assert reasons[5] == "summary is empty"
    assert "unknown channel 'pigeon'" in reasons[6]
    assert reasons[7] == "received_at 'not a date' is not a date and time"
    assert "lies in the future" in reasons[8]
    assert reasons[9] == "client is empty"
    assert reasons[10] == "8 cells but the header names 7"
    with desk.db.read() as session:
        tickets = session.exec(select(Ticket).order_by(Ticket.id)).all()
    assert [t.summary for t in tickets] == ["Printer jams", "Multi-line", "Wi-Fi down"]
    assert tickets[0].created_at == datetime(2026, 3, 2, 14, 40, tzinfo=UTC)  # Chicago CST
    assert tickets[1].description == "line one\nline two"
    assert tickets[2].created_at == datetime(2026, 3, 2, 8, 40, tzinfo=UTC)
    assert [t.channel for t in tickets] == ["phone", "email", "chat"]


def test_a_file_without_the_required_columns_is_refused(desk: Desk, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="has no 'summary' column"):
        import_csv(desk, write(tmp_path, "client,title\nAcme,x\n"), TZ)
    with pytest.raises(InvalidInput, match="is empty"):
        import_csv(desk, write(tmp_path, ""), TZ)


def test_excel_files_with_a_bom_or_in_windows_1252_read_right(desk: Desk, tmp_path: Path) -> None:
    bom = import_csv(desk, write(tmp_path, "\ufeffclient,summary\nMüller,Drucker\n"), TZ)
    assert (bom.imported, bom.encoding) == (1, "utf-8-sig")
    ansi = write(tmp_path, "client,summary\nCafé Ltd,“Wi-Fi” – down\n", "w.csv", "cp1252")
    assert import_csv(desk, ansi, TZ).encoding == "cp1252"
    with desk.db.read() as session:
        summaries = session.exec(select(Ticket.summary).order_by(Ticket.id)).all()
    assert summaries == ["Drucker", "“Wi-Fi” – down"]


def test_export_streams_in_batches_and_filters_by_status(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_mail(desk, CORPUS)
    with desk.db.write() as session:
        for ticket_id in (3, 5):
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            ticket.status = "resolved"
            session.add(ticket)
    reads = []
    real_read = desk.db.read

    def counting_read():
        reads.append(1)
        return real_read()

    monkeypatch.setattr(exporter, "BATCH", 4)
    monkeypatch.setattr(desk.db, "read", counting_read)
    assert [r["id"] for r in exporter.ticket_rows(desk, TZ)] == list(range(1, 12))
    assert len(reads) == 4  # 4 + 4 + 3 rows, then an empty batch: each its own short read
    resolved = rows_of(export_csv(desk, statuses=("resolved",)))
    assert [r["id"] for r in resolved] == ["3", "5"]


def test_technician_and_time_exports(desk: Desk) -> None:
    import_mail(desk, CORPUS)
    with desk.db.write() as session:
        tech = Technician(name="Ava Chen", tier=2, skills="m365,network", email="ava@msp.example")
        session.add(tech)
        session.flush()
        started = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
        session.add(TimeEntry(ticket_id=1, tech_id=tech.id or 0, started_at=started, hours=1.5,
                              note="=cmd|' /C calc'!A0"))  # fmt: skip
    techs = list(exporter.technician_rows(desk, TZ))
    assert techs == [{
        "id": 1, "name": "Ava Chen", "tier": 2, "skills": "m365,network",
        "email": "ava@msp.example", "active": True, "work_days": "mon,tue,wed,thu,fri",
        "work_start": "08:00", "work_end": "17:00",
    }]  # fmt: skip
    out = io.StringIO()
    exporter.write_csv(exporter.time_rows(desk, TZ), exporter.TIME_COLUMNS, out)
    [row] = rows_of(out.getvalue())
    assert row == {
        "id": "1", "ticket_id": "1", "client": "Unknown client",
        "ticket_summary": "Drucker im Büro – Fehler 0x80070005", "technician": "Ava Chen",
        "started_at": "2026-03-02T09:00:00-06:00", "hours": "1.5", "billable": "yes",
        "note": "'=cmd|' /C calc'!A0", "approved_at": "", "approved_by": "",
    }  # fmt: skip


def test_json_export_is_one_object(desk: Desk) -> None:
    import_mail(desk, CORPUS)
    out = io.StringIO()
    assert exporter.write_json(exporter.ticket_rows(desk, TZ), "tickets", out) == 11
    payload = json.loads(out.getvalue())
    assert payload["count"] == 11
    assert payload["tickets"][8]["summary"] == "[bold]x[/] \x1b[2J urgent"
    empty = io.StringIO()
    exporter.write_json(iter(()), "time", empty)
    assert json.loads(empty.getvalue()) == {"time": [], "count": 0}


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "'=x", "''+y", "'plain", "plain", "", "a=b"]
)
def test_formula_guard_round_trips(value: str) -> None:
    guarded = guard(value)
    assert unguard(guarded) == value
    assert guarded[:1] not in ("=", "+", "-", "@", "\t")
