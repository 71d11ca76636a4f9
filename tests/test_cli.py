"""The `duban` command as a coordinator runs it: a real process, the embedded default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.text import columns
from tests.campaigns import DATIAN, LAUNCH_DAY, dept, links_in, snapshot, write_campaign
from tests.campaigns import DATIAN_SLUG as SLUG
from tests.helpers import duban
from tests.receivers import SmtpReceiver, free_port

pytestmark = pytest.mark.prefect


def test_launch_the_example_to_the_outbox_then_status(duban_env: Path) -> None:
    first = duban("launch", str(DATIAN), "--now", LAUNCH_DAY)
    assert first.returncode == 0, first.stderr
    assert "文件中18个，新建任务18个" in first.stdout
    assert "新增18条，发出18条，失败0条" in first.stdout
    # Prefect's own lines (its temporary server, each task run, its docs) are not shown.
    assert "DUBAN_PUBLIC_URL" not in first.stderr  # the suite's links are on duban.test
    assert "Task run" not in first.stderr and "docs.prefect.io" not in first.stderr
    assert "Traceback" not in first.stderr
    # A long launch shows it is alive; not on a terminal, as plain lines with counts.
    assert "发送任务通知：18 / 18" in first.stderr and "建立任务：18 / 18" in first.stderr
    printed = links_in(first.stdout)
    assert len(printed) == len(set(printed)) == 18
    outbox = duban_env / "outbox" / SLUG
    emls = sorted(outbox.glob("*.eml"))
    assert len(emls) == 18
    in_files = {link for f in emls for link in links_in(f.read_text(encoding="utf-8"))}
    assert in_files == set(printed)
    assert "县市场监管局" in first.stdout

    second = duban("launch", str(DATIAN), "--now", LAUNCH_DAY)
    assert second.returncode == 0, second.stderr
    assert "新增0条，发出0条，失败0条" in second.stdout
    assert not links_in(second.stdout)
    assert len(list(outbox.glob("*.eml"))) == 18

    status = duban("status", SLUG, "--json", "--now", "2021-10-03T10:00:00+08:00")
    rows = json.loads(status.stdout)
    assert len(rows) == 18
    assert {r["status"] for r in rows} == {"assigned"}
    assert all(r["due"] == "2021-09-30T23:59:59+08:00" for r in rows)
    # 2021-09-30 23:59:59 to 2021-10-03 10:00 is 2 days 10 hours and one second overdue.
    assert all(r["seconds_left"] == -(2 * 86400 + 10 * 3600 + 1) for r in rows)
    assert all((r["notices_sent"], r["notices_failed"]) == (1, 0) for r in rows)

    table = duban("status", SLUG, "--now", "2021-09-28T10:00:00+08:00")
    assert table.returncode == 0
    assert "县市场监管局" in table.stdout and "还剩2天13小时" in table.stdout
    # The dashboard in text: its totals in its words, and columns aligned by display width
    # (a CJK character takes two), however long a unit's name.
    lines = table.stdout.splitlines()
    totals = "共18个单位：未签收18，已签收0，已报送0，逾期报送0，退回修改0，已验收0；逾期未报0"
    assert lines[1] == totals
    rows = [line for line in lines[4:] if line.strip()]
    assert len(rows) == 18
    starts = {columns(row[: row.index("未签收")]) for row in rows}
    assert len(starts) == 1, rows


def test_bad_file_exits_2_and_a_failed_notice_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        DATIAN.read_text(encoding="utf-8").replace("due: 2021-09-30", "due: 2021-09-31"),
        encoding="utf-8",
    )
    result = duban("launch", str(bad), "--now", LAUNCH_DAY)
    assert result.returncode == 2
    assert f"{bad}:" in result.stderr and ": due: 「2021-09-31」不是有效的日期" in result.stderr

    dead = f"json://127.0.0.1:{free_port()}/hook?cto=1"
    path = write_campaign(tmp_path / "c.yaml", [dept("ok", "ok@county.test"), dept("dead", dead)])
    result = duban("launch", str(path), "--now", LAUNCH_DAY)
    assert result.returncode == 1
    assert "新增2条，发出1条，失败1条" in result.stdout
    assert "dead" in result.stdout and "会重试" in result.stdout

    status = json.loads(duban("status", "test-campaign", "--json").stdout)
    failed = {r["code"]: r for r in status}["dead"]
    assert failed["notices_failed"] == 1 and "refused" in (failed["last_error"] or "").lower()

    unknown = duban("status", "no-such-campaign")
    assert unknown.returncode == 2
    assert "没有代号为「no-such-campaign」的活动；已有：test-campaign" in unknown.stderr
    listing = duban("campaigns", "--now", LAUNCH_DAY)
    assert listing.returncode == 0
    (row,) = [line for line in listing.stdout.splitlines() if line.startswith("test-campaign")]
    assert row.split()[1:4] == ["2021-09-30", "2", "0"] and "测试“质量月”活动" in row
    assert duban("launch", str(path), "--now", "yesterday").returncode == 2


def test_duban_now_sets_the_clock_and_a_past_deadline_is_refused(tmp_path: Path) -> None:
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")])
    late = duban("launch", str(path), env_extra={"DUBAN_NOW": "2021-10-08T09:00"})
    assert late.returncode == 2
    assert f"{path}:" in late.stderr and ": due: the deadline 2021-09-30 is before" in late.stderr
    assert "2021年10月8日（星期五）09:00" in late.stderr  # read in Asia/Shanghai, shown so
    assert "Traceback" not in late.stderr

    ok = duban("launch", str(path), env_extra={"DUBAN_NOW": "2021-09-13T09:00"})
    assert ok.returncode == 0, ok.stderr
    (row,) = json.loads(
        duban(
            "status", "test-campaign", "--json", env_extra={"DUBAN_NOW": "2021-09-30T23:00"}
        ).stdout
    )
    assert row["seconds_left"] == 59 * 60 + 59


def test_two_launches_started_together_send_each_notice_once(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    departments = [dept(f"d{i:02d}", smtp.url(f"d{i:02d}@county.test")) for i in range(30)]
    path = write_campaign(tmp_path / "c.yaml", departments)
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    command = [sys.executable, "-m", "cli.main", "launch", str(path), "--now", LAUNCH_DAY]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(m.rcpt[0] for m in smtp.mails) == sorted(
        f"d{i:02d}@county.test" for i in range(30)
    )


def test_bad_arguments_of_web_coordinator_and_report_exit_2_without_a_traceback(
    tmp_path: Path,
) -> None:
    from sqlalchemy import text

    from models.db import get_engine
    from tasks.accounts import sign_in

    workers = duban("web", "--workers", "0")
    assert (workers.returncode, workers.stderr.strip()) == (2, "duban: --workers: give at least 1")

    def add(name: str, password_line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "coordinator", "add", name, "--password-stdin"],
            input=password_line,
            capture_output=True,
            text=True,
            timeout=120,
        )

    short = add("zlb", "short\n")
    assert short.returncode == 2 and "at least 10 characters; nothing changed" in short.stderr
    spaced = add("有 空格", "long enough password\n")
    assert spaced.returncode == 2 and "a username is 2 to 64 letters" in spaced.stderr
    with get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM coordinator")).scalar_one() == 0
    # A password piped from a Windows file ends in CRLF: the CR is not part of it.
    created = add("zlb", "long enough password\r\n")
    assert created.returncode == 0 and "Coordinator zlb: created" in created.stdout
    assert sign_in("zlb", "long enough password") is not None

    launched = duban("launch", str(DATIAN), "--now", LAUNCH_DAY)
    assert launched.returncode == 0, launched.stderr
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    report = duban("report", SLUG, "--out", str(blocked / "reports"), "--now", LAUNCH_DAY)
    assert report.returncode == 2
    assert report.stderr.startswith("duban: --out: cannot write the report there:")
    assert "Traceback" not in report.stderr


def test_a_broken_calendar_file_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    from tests.campaigns import snapshot

    folder = tmp_path / "calendars"
    folder.mkdir()
    (folder / "2027.yaml").write_text("year: 2027\nholidays: [2027-02-30]\n", encoding="utf-8")
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")], due="2027-03-10")
    before = snapshot()
    run = duban(
        "launch",
        str(path),
        "--now",
        "2027-02-01T09:00",
        env_extra={"DUBAN_CALENDAR_DIR": str(folder)},
    )
    assert run.returncode == 2
    assert run.stderr.startswith("duban: working calendar: ")
    assert "2027.yaml: holidays: '2027-02-30' is not a date or a range" in run.stderr
    assert snapshot() == before


def test_now_holds_for_one_command_in_a_process(capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main
    from config.clock import now

    # A refused command still ran under the clock it was given; the next one is back on time.
    assert main(["status", "no-such-campaign", "--now", "2021-09-27T09:00"]) == 2
    assert "no-such-campaign" in capsys.readouterr().err
    assert "DUBAN_NOW" not in os.environ
    assert now().year >= 2026


def test_strict_launch_refuses_links_to_this_machine_and_help_states_defaults(
    tmp_path: Path,
) -> None:
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")])
    before = snapshot()
    local = {"DUBAN_PUBLIC_URL": "http://127.0.0.1:8000"}
    strict = duban("launch", "--strict", str(path), "--now", LAUNCH_DAY, env_extra=local)
    assert strict.returncode == 2
    assert "DUBAN_PUBLIC_URL" in strict.stderr and "未发出任何通知" in strict.stderr
    assert snapshot() == before
    assert snapshot() == before
    loose = duban("launch", str(path), "--now", LAUNCH_DAY, env_extra=local)
    assert loose.returncode == 0 and "只有本机能打开" in loose.stderr  # warned, then sent
    public = {"DUBAN_PUBLIC_URL": "https://duban.county.test"}
    other = write_campaign(tmp_path / "o.yaml", [dept("b", "b@county.test")], slug="other")
    served = duban("launch", "--strict", str(other), "--now", LAUNCH_DAY, env_extra=public)
    assert served.returncode == 0, served.stderr
    assert "DUBAN_PUBLIC_URL" not in served.stderr
    assert "https://duban.county.test/d/" in served.stdout

    top = duban("--help").stdout
    for setting in ("DUBAN_PUBLIC_URL", "DUBAN_SMTP_URL", "DUBAN_DATA_DIR", "DUBAN_SEND_WORKERS"):
        assert setting in top, setting
    assert "(default: 8000)" in duban("web", "--help").stdout
