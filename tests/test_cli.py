"""The CLI as a user calls it. Most tests run the entry point in-process with the
user's argv (see tests/helpers.py); the ones about the process itself (no
traceback ever on a real stderr, bytes reaching the terminal, the console script
and ``python -m``) run the installed command in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_one_line_error, cli, cli_process


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = cli("demo", "--tickets", "300", "--seed", "3", db=path)
    assert result.returncode == 0, result.stderr
    return path


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dispatch_tui", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "ticket" in result.stdout and "demo" in result.stdout


def test_demo_fills_every_table(demo_db: Path) -> None:
    import sqlite3

    with sqlite3.connect(demo_db) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "client",
                "contact",
                "technician",
                "ticket",
                "note",
                "service_call",
                "time_entry",
                "audit_event",
                "holiday",
                "out_of_office",
                "setting",
            )
        }
        statuses = {row[0] for row in conn.execute("SELECT DISTINCT status FROM ticket")}
    assert all(counts.values()), counts
    assert counts["client"] == 8 and counts["technician"] == 6 and counts["ticket"] == 300
    assert statuses == {
        "new",
        "triaged",
        "assigned",
        "in_progress",
        "waiting_client",
        "waiting_vendor",
        "on_hold",
        "resolved",
        "closed",
    }


def test_demo_refuses_a_database_with_tickets(demo_db: Path) -> None:
    assert_one_line_error(cli("demo", db=demo_db), 2, "already holds tickets")


def test_ticket_add_then_show_as_json(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    assert cli("init", "--timezone", "Europe/London", db=db).returncode == 0
    added = cli(
        "ticket",
        "add",
        "--client",
        "Acme Ltd",
        "--summary",
        "Printer jammed",
        "--contact",
        "Jo",
        "--channel",
        "email",
        "--received-at",
        "2026-07-01 09:15",
        "--json",
        db=db,
    )
    assert added.returncode == 0, added.stderr
    ticket_id = json.loads(added.stdout)["ticket"]["id"]
    shown = json.loads(cli("ticket", "show", str(ticket_id), "--json", db=db).stdout)
    assert shown["ticket"]["summary"] == "Printer jammed"
    assert shown["ticket"]["status"] == "new" and shown["ticket"]["version"] == 1
    assert shown["client"] == "Acme Ltd" and shown["contact"] == "Jo"
    # 09:15 in London in July is 08:15 UTC: command-line times are shop-local.
    assert shown["ticket"]["created_at"].startswith("2026-07-01T08:15:00")


def test_db_before_or_after_the_command_and_from_the_environment(demo_db: Path) -> None:
    after = cli("ticket", "list", "--status", "new", "--json", db=demo_db)
    before = cli("--db", str(demo_db), "ticket", "list", "--status", "new", "--json")
    from_env = cli(
        "ticket", "list", "--status", "new", "--json", env={"DISPATCH_TUI_DB": str(demo_db)}
    )
    assert after.stdout == before.stdout == from_env.stdout
    assert len(json.loads(after.stdout)["tickets"]) == 6


def test_ticket_show_names_the_technician(demo_db: Path) -> None:
    result = cli("ticket", "list", "--status", "assigned", "--limit", "1", "--json", db=demo_db)
    row = json.loads(result.stdout)["tickets"][0]
    shown = cli("ticket", "show", str(row["id"]), db=demo_db)
    assert shown.returncode == 0
    assert row["assigned_tech"] in shown.stdout and "version 1" in shown.stdout


def test_tech_add_and_list(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    cli("init", db=db)
    added = cli("tech", "add", "--name", "Sam", "--tier", "2", "--skills", "Network, M365", db=db)
    assert added.returncode == 0, added.stderr
    techs = json.loads(cli("tech", "list", "--json", db=db).stdout)["technicians"]
    assert [(t["name"], t["tier"], t["skills"]) for t in techs] == [("Sam", 2, "m365,network")]
    assert_one_line_error(cli("tech", "add", "--name", "Sam", db=db), 2, "already exists")
    assert_one_line_error(cli("tech", "add", "--name", "Kim", "--tier", "7", db=db), 2, "tier")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("ticket", "show", "424242"), "no ticket #424242"),
        (("ticket", "show", "abc"), "Invalid value for 'ID'"),
        (("ticket", "list", "--status", "done"), "unknown status 'done'"),
        (
            ("ticket", "add", "--client", "A", "--summary", "x", "--channel", "fax"),
            "unknown channel",
        ),
        (
            ("ticket", "add", "--client", "A", "--summary", "x", "--received-at", "soonish"),
            "--received-at",
        ),
        (("ticket", "frobnicate"), "No such command"),
        (("init", "--timezone", "Mars/Olympus"), "unknown time zone"),
    ],
)
def test_bad_input_is_one_line_exit_2(demo_db: Path, args: tuple[str, ...], fragment: str) -> None:
    assert_one_line_error(cli(*args, db=demo_db), 2, fragment)


def test_missing_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(
        cli_process("ticket", "list", db=tmp_path / "nope" / "x.db"), 2, "does not exist"
    )


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    assert_one_line_error(cli("ticket", "list", db=tmp_path / "x.db"), 2, "dispatch-tui init")
    assert not (tmp_path / "x.db").exists()


def test_corrupt_file_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_text("this is a spreadsheet, honest\n" * 100)
    assert_one_line_error(
        cli_process("ticket", "list", db=path), 2, "not a usable dispatch-tui database"
    )


def test_bad_config_file_is_one_line(tmp_path: Path, demo_db: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("name = [unclosed\n")
    result = cli_process("ticket", "list", db=demo_db, env={"DISPATCH_TUI_CONFIG": str(config)})
    assert_one_line_error(result, 2, "not valid TOML")


def test_client_text_is_printed_literally(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    cli("init", db=db)
    hostile = "[bold red]pwn[/] \x1b]0;evil title\x07 done"
    assert cli("ticket", "add", "--client", "Acme", "--summary", hostile, db=db).returncode == 0
    listed = cli_process("ticket", "list", db=db).stdout
    assert "[bold red]pwn[/]" in listed
    assert "\x1b" not in listed and "\x07" not in listed
