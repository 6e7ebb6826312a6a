"""Schedule, time, holiday and report commands as a dispatcher types them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import assert_one_line_error, cli


def ok(*args: str, db: Path) -> str:
    result = cli(*args, db=db)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def desk_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chicago shop: Ava on a 9-hour day, Ben on 8, three tickets, one holiday."""
    path = tmp_path_factory.mktemp("sched") / "desk.db"
    ok("init", "--timezone", "America/Chicago", db=path)
    ok("tech", "add", "--name", "Ava Chen", "--tier", "2", db=path)
    ok("tech", "add", "--name", "Ben Ortiz", db=path)
    ok(
        "tech",
        "hours",
        "Ben Ortiz",
        "--days",
        "mon,tue,wed,thu,fri",
        "--start",
        "09:00",
        "--end",
        "17:00",
        db=path,
    )
    for summary in ("Server migration", "New laptop", "Firewall upgrade"):
        ok("ticket", "add", "--client", "Harbor Dental", "--summary", summary, db=path)
    ok("holiday", "add", "Spring day", "--date", "2026-03-13", db=path)
    return path


def test_booking_then_a_clash_exits_5_naming_it(desk_file: Path) -> None:
    out = ok(
        "schedule",
        "add",
        "1",
        "--tech",
        "Ava Chen",
        "--start",
        "2026-03-10 10:00",
        "--hours",
        "2",
        db=desk_file,
    )
    assert out.strip() == "call #1 booked: ticket #1 for Ava Chen 2026-03-10 10:00-12:00 (firm)"
    clash = cli(
        "schedule",
        "add",
        "2",
        "--tech",
        "Ava Chen",
        "--start",
        "2026-03-10 09:00",
        "--hours",
        "2",
        db=desk_file,
    )
    assert_one_line_error(clash, 5, "overlaps call #1 for ticket #1, 10:00-12:00")
    holiday = cli(
        "schedule",
        "add",
        "2",
        "--tech",
        "ava chen",
        "--start",
        "2026-03-13 09:00",
        "--hours",
        "1",
        db=desk_file,
    )
    assert_one_line_error(holiday, 5, "falls on the holiday Spring day (Fri 2026-03-13)")


def test_allow_conflict_books_and_records_the_reason(desk_file: Path) -> None:
    out = ok(
        "schedule",
        "add",
        "2",
        "--tech",
        "Ava Chen",
        "--start",
        "2026-03-10 11:00",
        "--hours",
        "0.5",
        "--tentative",
        "--allow-conflict",
        "--json",
        db=desk_file,
    )
    booked = json.loads(out)
    assert booked["call"]["override_reason"] == "booked over a conflict from the command line"
    assert booked["call"]["firm"] is False
    assert booked["overridden"] == ["overlaps call #1 for ticket #1, 10:00-12:00"]
    listed = json.loads(
        ok("schedule", "list", "--day", "2026-03-10", "--tech", "Ava Chen", "--json", db=desk_file)
    )
    assert [c["ticket_id"] for c in listed["calls"]] == [1, 2]
    assert listed["timezone"] == "America/Chicago"
    table = ok("schedule", "list", "--week", "2026-W11", db=desk_file)
    assert "2026-03-10 11:00-11:30" in table and "tentative" in table


def test_move_and_cancel(desk_file: Path) -> None:
    out = ok(
        "schedule",
        "add",
        "3",
        "--tech",
        "Ben Ortiz",
        "--start",
        "2026-03-11 09:00",
        "--hours",
        "1",
        db=desk_file,
    )
    call_id = out.split()[1].lstrip("#")
    assert_one_line_error(
        cli("schedule", "move", call_id, "--start", "2026-03-11 08:00", db=desk_file),
        5,
        "08:00-09:00 lies outside working hours",
    )
    moved = ok("schedule", "move", call_id, "--tech", "Ava Chen", db=desk_file)
    assert "for Ava Chen 2026-03-11 09:00-10:00" in moved
    assert f"call #{call_id} cancelled" in ok("schedule", "cancel", call_id, db=desk_file)
    assert_one_line_error(
        cli("schedule", "cancel", call_id, db=desk_file), 2, f"no service call #{call_id}"
    )


def test_utilization_report_matches_a_hand_computed_week(desk_file: Path) -> None:
    # Week 2026-W11 with Friday a holiday. Ava: 4 days x 9 h = 36 h available, 27 h billable
    # = 75%. Ben: 4 days x 8 h = 32 h, minus Tuesday afternoon away (13:00-17:00) = 28 h;
    # 7 h billable = 25%, flagged low.
    ok(
        "tech",
        "away",
        "Ben Ortiz",
        "--from",
        "2026-03-10 13:00",
        "--to",
        "2026-03-10 17:00",
        "--reason",
        "dentist",
        db=desk_file,
    )
    for day in ("09", "10", "11"):
        ok(
            "time",
            "add",
            "1",
            "--tech",
            "Ava Chen",
            "--hours",
            "9",
            "--start",
            f"2026-03-{day} 08:00",
            db=desk_file,
        )
    ok(
        "time",
        "add",
        "1",
        "--tech",
        "Ava Chen",
        "--hours",
        "2",
        "--no-billable",
        "--start",
        "2026-03-12 08:00",
        "--note",
        "internal meeting",
        db=desk_file,
    )
    out = ok(
        "time",
        "add",
        "3",
        "--tech",
        "Ben Ortiz",
        "--hours",
        "7",
        "--start",
        "2026-03-09 09:00",
        "--json",
        db=desk_file,
    )
    ben_entry = json.loads(out)["time_entry"]["id"]
    assert ok("time", "approve", str(ben_entry), db=desk_file).strip() == "approved 1 time entry"

    report = json.loads(ok("report", "utilization", "--week", "2026-W11", "--json", db=desk_file))
    rows = {r["tech"]: r for r in report["technicians"]}
    assert report["week"] == "2026-W11" and report["thresholds"]["target"] == 0.75
    assert (rows["Ava Chen"]["billable_hours"], rows["Ava Chen"]["available_hours"]) == (27, 36)
    assert (rows["Ava Chen"]["utilization"], rows["Ava Chen"]["flag"]) == (0.75, "ok")
    assert rows["Ava Chen"]["total_hours"] == 29
    assert (rows["Ben Ortiz"]["available_hours"], rows["Ben Ortiz"]["utilization"]) == (28, 0.25)
    assert (
        rows["Ben Ortiz"]["flag"] == "low" and rows["Ben Ortiz"]["unapproved_billable_hours"] == 0
    )

    table = list(
        csv.DictReader(
            io.StringIO(ok("report", "utilization", "--week", "2026-W11", "--csv", db=desk_file))
        )
    )
    assert [r["tech"] for r in table] == ["Ava Chen", "Ben Ortiz"]
    assert (table[0]["week"], table[0]["utilization"], table[0]["available_h"]) == (
        "2026-W11",
        "0.75",
        "36.0",
    )
    assert table[1]["flag"] == "low"


def test_bad_input_is_one_line_with_exit_2(desk_file: Path) -> None:
    assert_one_line_error(
        cli("report", "utilization", "--week", "March", db=desk_file), 2, "YYYY-Www"
    )
    assert_one_line_error(
        cli(
            "holiday", "add", "Both", "--date", "2026-01-01", "--rule", "FREQ=YEARLY", db=desk_file
        ),
        2,
        "exactly one",
    )
    assert_one_line_error(
        cli(
            "tech",
            "hours",
            "Ava Chen",
            "--days",
            "funday",
            "--start",
            "08:00",
            "--end",
            "17:00",
            db=desk_file,
        ),
        2,
        "working days",
    )
    assert_one_line_error(
        cli(
            "schedule",
            "add",
            "1",
            "--tech",
            "Nobody",
            "--start",
            "2026-03-10 10:00",
            "--hours",
            "1",
            db=desk_file,
        ),
        2,
        "no technician 'Nobody'",
    )
    listed = ok("holiday", "list", db=desk_file)
    assert "Spring day" in listed and "2026-03-13" in listed
