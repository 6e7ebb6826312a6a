"""``dispatch-tui import`` and ``export`` as a user (or a cron job) calls them."""

from __future__ import annotations

import json
import mailbox
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from helpers import EXE, assert_one_line_error, cli

CORPUS = Path(__file__).parent / "fixtures" / "mail"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "desk.db"
    assert cli("init", "--timezone", "Europe/London", db=path).returncode == 0
    return path


def test_a_folder_with_a_broken_file_imports_the_rest_and_exits_2(db: Path) -> None:
    result = cli("import", str(CORPUS), db=db)
    assert result.returncode == 2
    assert result.stdout.strip() == (
        "imported 11, threaded 1, already imported 2, failed 1 (1 flagged as possible duplicates)"
    )
    assert result.stderr.strip() == (
        f"dispatch-tui: skipped {CORPUS / '12-broken.eml'}: "
        "not an e-mail message (no From, Subject, Date or Message-ID)"
    )
    listed = json.loads(cli("ticket", "list", "--json", db=db).stdout)["tickets"]
    assert len(listed) == 11


def test_clean_imports_and_reimports_exit_0_and_json_is_one_object(
    db: Path, tmp_path: Path
) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for name in ("01-utf8-qp.eml", "07-reply-tagged.eml"):
        box.add((CORPUS / name).read_bytes())
    first = cli("import", str(tmp_path / "Maildir"), "--json", db=db)
    assert first.returncode == 0, first.stderr
    payload = json.loads(first.stdout)
    assert payload["kind"] == "maildir"
    assert payload["import"] == {
        "imported": 1, "threaded": 1, "already_imported": 0, "failed": 0,
        "possible_duplicates": 0, "failures": [],
    }  # fmt: skip
    again = cli("import", str(tmp_path / "Maildir"), db=db)
    assert again.returncode == 0
    assert again.stdout.startswith("imported 0, threaded 0, already imported 2, failed 0")


def test_missing_or_unwatchable_paths_are_one_line_exit_2(db: Path, tmp_path: Path) -> None:
    assert_one_line_error(cli("import", str(tmp_path / "nope"), db=db), 2, "does not exist")
    assert_one_line_error(
        cli("import", str(CORPUS / "corpus.mbox"), "--watch", db=db), 2, "needs a folder"
    )


def test_csv_import_reports_bad_lines_and_export_round_trips(db: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "client,contact,summary,received_at,notes\n"
        "Acme,Jo,Printer jams,2026-07-01 09:15,x\n"
        "Acme,Jo,,2026-07-01 09:20,\n"
    )
    result = cli("import", str(source), db=db)
    assert result.returncode == 2
    assert result.stdout.strip() == "imported 1, already imported 0, failed 1"
    assert result.stderr.splitlines() == [
        f"dispatch-tui: {source}: unknown columns ignored: notes",
        f"dispatch-tui: {source} line 3: summary is empty",
    ]
    out = tmp_path / "tickets.csv"
    exported = cli("export", "tickets", "--csv", "--output", str(out), db=db)
    assert exported.returncode == 0 and exported.stderr.strip().startswith("exported 1 tickets")
    assert "2026-07-01T09:15:00+01:00" in out.read_text()  # shop-local, with its offset
    other = tmp_path / "other.db"
    cli("init", "--timezone", "America/Chicago", db=other)
    back = cli("import", str(out), "--json", db=other)
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["import"]["imported"] == 1
    shown = json.loads(cli("ticket", "show", "1", "--json", db=other).stdout)
    assert shown["ticket"]["summary"] == "Printer jams"
    assert shown["ticket"]["created_at"].startswith("2026-07-01T08:15:00")


def test_export_json_and_bad_options(db: Path) -> None:
    cli("import", str(CORPUS / "01-utf8-qp.eml"), db=db)
    result = cli("export", "tickets", "--json", "--status", "new", db=db)
    assert result.returncode == 0
    assert (
        json.loads(result.stdout)["tickets"][0]["summary"] == "Drucker im Büro – Fehler 0x80070005"
    )
    assert_one_line_error(cli("export", "tickets", "--csv", "--json", db=db), 2, "choose one")
    assert_one_line_error(cli("export", "tickets", "--status", "nope", db=db), 2, "unknown status")
    assert_one_line_error(cli("export", "time", "--status", "new", db=db), 2, "tickets only")
    assert_one_line_error(
        cli("export", "tickets", "-o", "/no/such/dir/x.csv", db=db), 2, "does not exist"
    )


@pytest.mark.skipif(not EXE, reason="needs the installed console script")
def test_watch_imports_arrivals_and_stops_cleanly_on_ctrl_c(db: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(CORPUS / "01-utf8-qp.eml", inbox / "a.eml")
    proc = subprocess.Popen(
        [EXE, "import", str(inbox), "--watch", "--interval", "0.2", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the watcher reports: no sleeps
        assert first.startswith("imported #1: ")
        shutil.copy(CORPUS / "07-reply-tagged.eml", inbox / "b.eml")
        second = proc.stdout.readline()
        assert second.startswith("threaded #1: ")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert (
        out.strip()
        == "imported 1, threaded 1, already imported 0, failed 0 (0 flagged as possible duplicates)"
    )
    assert "Traceback" not in err and "watching" in err
