"""The deadline monitor over the 大田县 2021 campaign, on the real 2021 calendar."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from config.calendars import CalendarGapWarning, WorkCalendar
from config.clock import parse_instant
from config.settings import get_settings
from flows.launch import launch_flow
from flows.monitor import monitor_flow
from models.db import get_engine
from tasks.messages.send import send_batch
from tasks.monitor import plan_reminders, sendable_now
from tests.campaigns import DATIAN, LAUNCH_DAY, dept, links_in, write_campaign
from tests.receivers import SmtpReceiver

pytestmark = pytest.mark.prefect

TZ = "Asia/Shanghai"


def run_pass(at: str) -> int:
    """One monitor pass at local time `at`, through the functions the flow's tasks wrap."""
    now = parse_instant(at, TZ)
    plans = plan_reminders.fn(now)
    return sum(send_batch.fn(ids, now).sent for ids in sendable_now.fn(plans, now, 500))


def submit_as(smtp: SmtpReceiver, address: str, at: str) -> None:
    """The unit at `address` submits its summary through the link in its notice."""
    from tasks.link.policy import Limits
    from tasks.link.submission import LinkState, find_unit, submit

    notice = next(m for m in smtp.to(address) if m.subject.startswith("【任务通知】"))
    unit = find_unit(links_in(notice.body)[0])
    assert unit.state == LinkState.OPEN
    submit(
        unit, secrets.token_hex(8), "活动总结。", [], Limits.from_settings(), parse_instant(at, TZ)
    )


def received(smtp: SmtpReceiver) -> dict[str, list[tuple[str, str]]]:
    """Per address: (heading, local date written in the message) of every message but notices."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for mail in smtp.mails:
        heading = mail.subject.split("】", 1)[0].lstrip("【")
        if heading == "任务通知":
            continue
        sent_on = re.findall(r"\d{4}年\d+月\d+日", mail.body.strip().splitlines()[-1])[0]
        for rcpt in mail.rcpt:
            out[rcpt].append((heading, sent_on))
    return out


def test_the_datian_campaign_from_launch_to_two_weeks_after_its_deadline(
    relay: SmtpReceiver,
) -> None:
    launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
    assert len(relay.mails) == 18
    deliveries = {  # (day, after the pass at) -> the unit that delivers then
        (date(2021, 9, 28), "12:00"): "scjgj",  # 县市场监管局, before the deadline
        (date(2021, 10, 8), "09:00"): "gaj",  # 县公安局, late: after the 督办 of 10-8
    }
    day = date(2021, 9, 13)
    while day <= date(2021, 10, 14):
        for hour in ("07:00", "09:00", "12:00", "16:00", "20:00"):
            run_pass(f"{day}T{hour}")
            if (day, hour) in deliveries:
                code = deliveries[day, hour]
                submit_as(relay, f"{code}@datian.example.cn", f"{day}T{hour}:30")
        day += timedelta(days=1)

    got = received(relay)
    expected_default = [
        ("提醒", "2021年9月27日"),  # 3 working days before 9-30 (Sunday 9-26 is a make-up day)
        ("催办", "2021年9月30日"),  # the deadline day
        ("督办", "2021年10月8日"),  # first working day after the National Day week
    ]
    assert got["fgj@datian.example.cn"] == expected_default
    assert got["scjgj@datian.example.cn"] == [("提醒", "2021年9月27日")]
    assert got["gaj@datian.example.cn"] == expected_default  # then nothing after delivering
    # The office gets a copy of every overdue notice; the leadership group the escalations,
    # three working days on (10-9 is a make-up Saturday, so Monday 10-11).
    office = got["zlb@datian.example.cn"]
    assert office == [("逾期未报", "2021年10月8日")] * 17
    leaders = got["ldxz@datian.example.cn"]
    assert leaders == [("情况报告", "2021年10月11日")] * 16
    # Nothing on weekends, during the Mid-Autumn or National Day holidays, or out of hours.
    all_days = {d for msgs in got.values() for _, d in msgs}
    assert all_days == {"2021年9月27日", "2021年9月30日", "2021年10月8日", "2021年10月11日"}
    # The status shows per unit what went out, to whom and when (the pass at 09:00).
    from tasks.status import campaign_status

    rows = {r.code: r for r in campaign_status("datian-quality-month-2021").rows}
    sent = [(m["message"], m["to"], m["sent_at"]) for m in rows["fgj"].messages]
    assert sent == [
        ("notice", "department", "2021-09-13T09:00:00+08:00"),
        ("reminder", "department", "2021-09-27T09:00:00+08:00"),
        ("urgent", "department", "2021-09-30T09:00:00+08:00"),
        ("overdue", "department", "2021-10-08T09:00:00+08:00"),
        ("overdue", "coordinator", "2021-10-08T09:00:00+08:00"),
        ("escalation", "leaders", "2021-10-11T09:00:00+08:00"),
    ]
    assert [m["message"] for m in rows["scjgj"].messages] == ["notice", "reminder"]
    # What the unit reads: the deadline, the days, its link, who to call.
    bodies = {
        m.subject.split("】")[0][1:]: m.body
        for m in relay.mails
        if m.rcpt == ["fgj@datian.example.cn"]
    }
    assert "截止时间为2021年9月30日（星期四）24时，距截止还有3个工作日" in bodies["提醒"]
    assert "今天（9月30日，星期四）是大田县2021年“质量月”活动总结材料的报送截止日" in bodies["催办"]
    # 9-30 to 10-8, the National Day week included: calendar days, and said so.
    assert "已超过报送时限8个自然日" in bodies["督办"]
    # A new time limit, two working days on (10-9 is the make-up Saturday), and the
    # written explanation a real 督办 asks for.
    assert "请于2021年10月11日（星期一）24时前报送，并书面说明逾期原因" in bodies["督办"]
    assert "逾期情况将报大田县质量强县工作领导小组" in bodies["督办"]
    # The person to call, and the number labelled; the office signs below.
    assert "联系人：示例联系人，电话：0598-0000000" in bodies["督办"]
    assert bodies["督办"].rstrip().splitlines()[-2] == "大田县质量强县工作领导小组办公室"
    # Each unit's messages carry its own link.
    fgj = [m for m in relay.mails if "fgj@datian.example.cn" in m.rcpt]
    assert len({links_in(m.body)[0] for m in fgj}) == 1


def test_a_late_monitor_sends_the_rung_due_now_not_the_missed_ones(relay: SmtpReceiver) -> None:
    path = write_campaign(
        Path(os.environ["DUBAN_DATA_DIR"]).parent / "c.yaml", [dept("a", "a@county.test")]
    )
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    run_pass("2021-10-08T10:00")  # down since before the reminder: 提醒 and 催办 are stale
    got = received(relay)["a@county.test"]
    assert got == [("督办", "2021年10月8日")]
    run_pass("2021-10-08T11:00")
    assert received(relay)["a@county.test"] == got


def test_an_extension_replans_the_ladder_from_the_new_date(relay: SmtpReceiver) -> None:
    path = write_campaign(
        Path(os.environ["DUBAN_DATA_DIR"]).parent / "c.yaml", [dept("a", "a@county.test")]
    )
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    run_pass("2021-09-27T09:00")
    write_campaign(path, [dept("a", "a@county.test")], due="2021-10-15")
    launch_flow(path=str(path), now=parse_instant("2021-09-28T09:00", TZ))
    for day in ("2021-09-30", "2021-10-08", "2021-10-12", "2021-10-15", "2021-10-18"):
        run_pass(f"{day}T09:00")
    assert received(relay)["a@county.test"] == [
        ("提醒", "2021年9月27日"),
        ("提醒", "2021年10月12日"),  # 3 working days before the new deadline
        ("催办", "2021年10月15日"),
        ("督办", "2021年10月18日"),
    ]


def test_two_monitors_at_the_same_instant_send_each_message_once(relay: SmtpReceiver) -> None:
    from concurrent.futures import ThreadPoolExecutor

    departments = [dept(f"d{i:02d}", f"d{i:02d}@county.test") for i in range(24)]
    path = write_campaign(Path(os.environ["DUBAN_DATA_DIR"]).parent / "c.yaml", departments)
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    relay.mails.clear()
    with ThreadPoolExecutor(2) as pool:
        sent = list(pool.map(run_pass, ["2021-09-27T09:00"] * 2))
    assert sum(sent) == 24
    assert sorted(m.rcpt[0] for m in relay.mails) == sorted(d["notify"][0] for d in departments)


def test_a_monitor_killed_between_send_and_record_does_not_send_twice(
    relay: SmtpReceiver, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    departments = [dept(f"d{i}", f"d{i}@county.test") for i in range(5)]
    path = write_campaign(tmp_path / "c.yaml", departments)
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    relay.mails.clear()
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "DUBAN_SEND_WORKERS": "1",
        "DUBAN_SMTP_URL": relay.relay_url(),
    }
    command = [sys.executable, "-m", "cli.main", "monitor", "--now", "2021-09-27T09:00"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The server accepts the first reminder, then the monitor dies before it can record it.
    relay.on_message = lambda: os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=300)
    assert first.returncode == -signal.SIGKILL
    relay.on_message = None
    assert len(relay.mails) == 1

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    recipients = [m.rcpt[0] for m in relay.mails]
    assert sorted(recipients) == sorted(f"d{i}@county.test" for i in range(5))  # once each
    with get_engine().connect() as conn:
        states = dict(
            conn.execute(
                text(
                    "SELECT state, count(*) FROM notification WHERE kind <> 'notice' GROUP BY state"
                )
            ).all()
        )
    assert states == {"sending": 1, "sent": 4}  # the killed one stays unconfirmed

    # Once the office has checked, it asks for the unconfirmed one to go out again.
    third = subprocess.run(
        [*command, "--resend-unconfirmed"], env=env, capture_output=True, text=True, timeout=300
    )
    assert third.returncode == 0, third.stderr
    assert "1 unconfirmed message(s) made sendable again" in third.stdout
    assert len(relay.mails) == 6 and relay.mails[-1].rcpt == relay.mails[0].rcpt


def test_a_relay_down_for_a_day_delivers_every_due_message_once_when_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.status import campaign_status

    smtp = SmtpReceiver()  # its port is reserved, but nothing listens until the second day
    monkeypatch.setenv("DUBAN_SMTP_URL", smtp.relay_url())
    get_settings.cache_clear()
    departments = [dept(f"d{i}", f"d{i}@county.test") for i in range(3)]
    path = write_campaign(tmp_path / "c.yaml", departments)
    with pytest.raises(AssertionError):
        assert launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY)).delivery.sent
    for hour in ("09:00", "09:30", "10:00", "12:00", "16:00"):
        run_pass(f"2021-09-27T{hour}")
    rows = campaign_status("test-campaign", parse_instant("2021-09-27T17:00", TZ)).rows
    assert all(r.notices_failed >= 1 and r.last_error for r in rows)
    smtp.start()
    try:
        for hour in ("09:00", "10:00", "12:00"):
            run_pass(f"2021-09-28T{hour}")
    finally:
        smtp.stop()
    got = received(smtp)
    for d in departments:
        address = d["notify"][0]
        assert got[address] == [("提醒", "2021年9月28日")]
        assert sum("任务通知" in m.subject for m in smtp.mails if address in m.rcpt) == 1
    with get_engine().connect() as conn:
        attempts = conn.execute(
            text("SELECT max(attempts) FROM notification WHERE state = 'sent'")
        ).scalar_one()
    assert attempts > 1  # retried, with backoff, not once per pass


def test_a_year_without_a_calendar_warns_and_a_supplied_file_is_used(tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text(
        "year: 2027\nholidays: [2027-02-05..2027-02-11]\nworkdays: [2027-02-14]\n",
        encoding="utf-8",
    )
    calendar = WorkCalendar(tmp_path)
    assert not calendar.is_working_day(date(2027, 2, 8))  # a Monday in the supplied holiday
    assert calendar.is_working_day(date(2027, 2, 14))  # a Sunday made a working day
    assert calendar.shift(date(2027, 2, 4), 1) == date(2027, 2, 12)  # over the holiday
    assert calendar.shift(date(2027, 2, 12), 1) == date(2027, 2, 14)  # onto the Sunday
    with pytest.warns(CalendarGapWarning, match="2028"):
        assert calendar.is_working_day(date(2028, 3, 1))


def test_the_monitor_runs_as_a_prefect_flow(relay: SmtpReceiver, tmp_path: Path) -> None:
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")])
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    night = monitor_flow(now=parse_instant("2021-09-27T20:00", TZ))
    assert not night.campaigns[0].in_office_hours and night.delivery.sent == 0
    morning = monitor_flow(now=parse_instant("2021-09-28T08:45", TZ))
    assert morning.campaigns[0].by_rung == {"reminder": 1} and morning.delivery.sent == 1
    assert received(relay)["a@county.test"] == [("提醒", "2021年9月28日")]


def test_a_deadline_on_a_holiday_moves_to_the_next_working_day(relay: SmtpReceiver) -> None:
    from tasks.status import campaign_status

    path = write_campaign(
        Path(os.environ["DUBAN_DATA_DIR"]).parent / "c.yaml",
        [dept("a", "a@county.test")],
        due="2021-10-03",
    )
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    (row,) = campaign_status("test-campaign").rows
    assert row.due == "2021-10-08T23:59:59+08:00"
    for day in ("2021-09-29", "2021-09-30", "2021-10-08", "2021-10-09", "2021-10-11"):
        run_pass(f"{day}T09:00")
    assert received(relay)["a@county.test"] == [
        ("提醒", "2021年9月29日"),  # 3 working days before Friday 10-8: 9-29, 9-30, 10-8
        ("催办", "2021年10月8日"),
        ("督办", "2021年10月9日"),  # the make-up Saturday is the first working day after
    ]
    urgent = next(m for m in relay.mails if m.subject.startswith("【催办】"))
    assert "今天（10月8日，星期五）是" in urgent.body
    assert "截止时间为2021年10月8日（星期五）24时" in urgent.body
    assert "（（" not in urgent.body and "））" not in urgent.body  # no nested brackets


def test_a_rung_set_in_hours_and_a_deadline_with_a_time(relay: SmtpReceiver) -> None:
    ladder = [
        {"name": "last-call", "hours": -4, "to": ["department"], "wording": "urgent"},
        {"name": "overdue", "days": 1, "to": ["department"], "wording": "overdue"},
    ]
    path = write_campaign(
        Path(os.environ["DUBAN_DATA_DIR"]).parent / "c.yaml",
        [dept("a", "a@county.test")],
        due="2021-09-30T17:00",
        escalation=ladder,
    )
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    assert run_pass("2021-09-30T12:59") == 0
    assert run_pass("2021-09-30T13:00") == 1  # four hours before 17:00
    urgent = next(m for m in relay.mails if m.subject.startswith("【催办】"))
    assert "2021年9月30日（星期四）17:00" in urgent.body


def test_a_failed_message_waits_out_its_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp = SmtpReceiver()  # nothing listens on its port yet
    monkeypatch.setenv("DUBAN_SMTP_URL", smtp.relay_url())
    get_settings.cache_clear()
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")])
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))

    def attempts() -> dict[str, int]:
        with get_engine().connect() as conn:
            return dict(conn.execute(text("SELECT kind, attempts FROM notification")).all())

    def tries() -> tuple[int, int]:
        by_kind = attempts()
        reminder = next(n for kind, n in by_kind.items() if kind.startswith("reminder@"))
        return by_kind["notice"], reminder

    run_pass("2021-09-27T09:00")
    assert tries() == (2, 1)  # the notice failed at launch too: its second try
    run_pass("2021-09-27T09:04")  # within the reminder's first wait (5 minutes)
    assert tries() == (2, 1)
    run_pass("2021-09-27T09:06")
    assert tries() == (2, 2)  # the notice waits 15 minutes after a second failure
    run_pass("2021-09-27T09:16")
    assert tries() == (3, 2)


def test_a_unit_that_submits_after_planning_is_not_reminded(relay: SmtpReceiver) -> None:
    path = write_campaign(
        Path(os.environ["DUBAN_DATA_DIR"]).parent / "c.yaml",
        [dept("a", "a@county.test"), dept("b", "b@county.test")],
    )
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    now = parse_instant("2021-09-27T09:00", TZ)
    plans = plan_reminders.fn(now)
    submit_as(relay, "a@county.test", "2021-09-27T09:00:10")  # between decision and send
    sent = sum(send_batch.fn(ids, now).sent for ids in sendable_now.fn(plans, now, 500))
    assert sent == 1 and list(received(relay)) == ["b@county.test"]


def test_a_supplied_calendar_drives_a_campaign_beyond_the_package(
    relay: SmtpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.status import campaign_status

    folder = tmp_path / "calendars"
    folder.mkdir()
    (folder / "2027.yaml").write_text(
        "year: 2027\nholidays: [2027-02-05..2027-02-11]\nworkdays: [2027-02-14]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DUBAN_CALENDAR_DIR", str(folder))
    get_settings.cache_clear()
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")], due="2027-02-10")
    launch_flow(path=str(path), now=parse_instant("2027-01-20T09:00", TZ))
    (row,) = campaign_status("test-campaign").rows
    assert row.due == "2027-02-12T23:59:59+08:00"  # out of the supplied Spring Festival break
    run_pass("2027-02-15T09:00")  # Sunday 2-14 was the make-up day: 2-15 is one day late
    assert received(relay)["a@county.test"] == [("督办", "2027年2月15日")]


def test_two_monitor_processes_started_together_send_each_reminder_once(
    relay: SmtpReceiver, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    departments = [dept(f"d{i:02d}", f"d{i:02d}@county.test") for i in range(20)]
    path = write_campaign(tmp_path / "c.yaml", departments)
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    relay.mails.clear()
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    command = [sys.executable, "-m", "cli.main", "monitor", "--now", "2021-09-27T09:00"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(m.rcpt[0] for m in relay.mails) == sorted(d["notify"][0] for d in departments)


def test_the_monitor_publishes_the_overdue_list_as_a_prefect_artifact(
    relay: SmtpReceiver, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    path = write_campaign(
        tmp_path / "c.yaml",
        [dept("a", "a@county.test", name="县甲局"), dept("b", "b@county.test", name="县乙局")],
    )
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    submit_as(relay, "b@county.test", "2021-09-29T10:00")
    summary = monitor_flow(now=parse_instant("2021-10-08T09:00", TZ))
    (table,) = summary.overdue
    assert (table.key, table.total) == ("overdue-test-campaign", 1)

    with get_client(sync_client=True) as client:
        (artifact,) = client.read_latest_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["overdue-test-campaign"]))
        )
    rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert [(r["单位"], r["逾期天数"], r["签收"]) for r in rows] == [("县甲局", 8, "未签收")]
    assert "逾期未报 1 个单位" in (artifact.description or "")
    assert "http://duban.test/c/test-campaign?status=overdue" in (artifact.description or "")


def test_a_failed_coordinator_message_to_a_unit_that_submitted_is_retried(
    relay: SmtpReceiver, tmp_path: Path
) -> None:
    """The ladder stops for a unit that delivered; the coordinator's own messages do not: a
    new deadline that failed to go out is retried by the monitor like any other message."""
    from tasks import review

    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")])
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    submit_as(relay, "a@county.test", "2021-09-24T10:00")
    relay.stop()  # the relay is down when the coordinator extends the deadline
    unit = review.find_unit("test-campaign", "a")
    assert unit is not None
    now = parse_instant("2021-09-27T09:00", TZ)
    assert review.send_now(review.extend(unit, date(2021, 10, 15), now), now).failed
    relay.start()
    run_pass("2021-09-27T09:10")  # past the first backoff (5 minutes)
    assert [m.subject.split("】")[0] for m in relay.to("a@county.test")][-1] == "【延期通知"
    run_pass("2021-09-27T10:00")
    assert sum("延期通知" in m.subject for m in relay.mails) == 1
