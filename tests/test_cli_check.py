"""``dispatch-tui check`` and the desk reports as a user or a cron job runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import assert_one_line_error, cli

from dispatch_tui.rules.health import CHECK_IDS


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("health") / "demo.db"
    result = cli("demo", "--tickets", "300", "--seed", "3", db=path)
    assert result.returncode == 0, result.stderr
    return path


def test_check_json_on_the_demo_lists_every_check_and_exits_6(demo_db: Path) -> None:
    result = cli("check", "--json", db=demo_db)
    assert result.returncode == 6, result.stderr
    payload = json.loads(result.stdout)
    assert [c["id"] for c in payload["checks"]] == list(CHECK_IDS)
    assert payload["clean"] is False
    for check in payload["checks"]:
        assert set(check) >= {"id", "title", "count", "ticket_ids"}
        if check["id"] != "technician_utilization":
            assert len(check["ticket_ids"]) == check["count"]


def test_check_plain_is_a_table(demo_db: Path) -> None:
    result = cli("check", db=demo_db)
    assert result.returncode == 6
    assert result.stdout.splitlines()[0].split()[:2] == ["check", "count"]
    assert "checks found problems" in result.stdout


def test_check_on_a_clean_desk_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "clean.db"
    assert cli("init", db=path).returncode == 0
    result = cli("check", "--json", db=path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["clean"] is True


def test_report_sla_json_and_csv(demo_db: Path) -> None:
    result = cli("report", "sla", "--json", "--weeks", "4", db=demo_db)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["by_priority"][-1]["priority"] == "all"
    assert len(payload["weeks"]) == 4
    result = cli("report", "sla", "--csv", "--from", "2020-01-01", "--to", "2020-01-31", db=demo_db)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["scope", "name", "tickets"]


@pytest.mark.parametrize("name", ["priority", "aging", "load"])
def test_other_reports_run(demo_db: Path, name: str) -> None:
    for fmt in ("--json", "--csv"):
        result = cli("report", name, fmt, db=demo_db)
        assert result.returncode == 0, result.stderr
    assert cli("report", name, db=demo_db).stdout.strip()


def test_report_refuses_bad_dates(demo_db: Path) -> None:
    result = cli("report", "priority", "--from", "2026-02-30", db=demo_db)
    assert_one_line_error(result, 2, "--from")
    result = cli("report", "aging", "--json", "--csv", db=demo_db)
    assert_one_line_error(result, 2, "not both")
