"""The coordinator's actions on a unit, through the dashboard over HTTP (signed in, with the
CSRF token read off the page), checked in the database, at the SMTP server and with the real
monitor flow."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from config.clock import parse_instant
from flows.launch import launch_flow
from flows.monitor import monitor_flow
from tests.campaigns import links_in, snapshot
from tests.receivers import HttpReceiver, SmtpReceiver, free_port
from tests.web_helpers import (
    JPEG,
    LAUNCHED,
    OFFICE,
    SERVER_NOW,
    TZ,
    USER,
    Dashboard,
    Department,
    address,
    coordinator_account,
    execute,
    headed,
    launch_units,
    ledger,
    page_error,
    rows,
    unit_status,
    wait_until,
)
from tests.web_server import web_server

pytestmark = pytest.mark.prefect

ACTION_HEADINGS = ("任务通知", "退回修改", "延期通知")


def monitor_at(local_time: str) -> None:
    monitor_flow(now=parse_instant(local_time, TZ))


def chased(smtp: SmtpReceiver, to: str) -> list[tuple[str, str]]:
    """(heading, the date the message was written) of every rung of the ladder sent to `to`."""
    out = []
    for mail in smtp.to(to):
        heading = mail.subject.split("】", 1)[0].lstrip("【")
        if heading not in ACTION_HEADINGS:
            out.append((heading, re.findall(r"\d{4}年\d+月\d+日", mail.body)[-1]))
    return out


def about(smtp: SmtpReceiver, to: str, unit_name: str) -> list[tuple[str, str]]:
    """Like `chased`, for the office's copies that name `unit_name`."""
    return [
        (m.subject.split("】", 1)[0].lstrip("【"), re.findall(r"\d{4}年\d+月\d+日", m.body)[-1])
        for m in smtp.to(to)
        if f"（{unit_name}）" in m.subject
    ]


def settled(kind_prefix: str) -> bool:
    """Every message of this kind has been through its send (the dashboard sends after it
    answers)."""
    states = [
        s for (s,) in rows("SELECT state FROM notification WHERE kind LIKE :k", k=kind_prefix + "%")
    ]
    return bool(states) and all(s in ("sent", "failed") for s in states)


def kinds(code: str, prefix: str) -> list[tuple[str, str, str]]:
    return [row for row in ledger(code) if row[0].startswith(prefix)]


# --- return for revision ----------------------------------------------------------------------


def test_a_returned_summary_is_told_once_chased_again_and_cleared_by_the_revision(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"])
    coordinator_account()
    comment = "请补充活动现场图片，并写明参加人数。\n第二段意见。"
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        assert a.submit("第一版总结", [("现场.jpg", JPEG)]).is_redirect
        desk = Dashboard(base)
        page = desk.unit("a")
        assert "第一版总结" in page and "待审核" in page

        first = desk.act("a", "return", page=page, comment=comment)
        again = desk.act("a", "return", page=page, comment=comment)  # the same form again
        assert first.status_code == 303
        assert first.headers["location"] == "/c/test-campaign/u/a?done=returned"
        assert again.status_code == 409
        assert "该单位当前没有待审核的材料" in page_error(again.text)
        assert wait_until(lambda: settled("returned:"))
        mails = headed(smtp, address("a"), "退回修改")
        assert len(mails) == 1
        assert comment in mails[0]
        assert links_in(mails[0]) == [tokens["a"]]
        assert "请于2021年9月30日（星期四）24时前通过下方链接修改后重新提交" in mails[0]
        assert [(k.split(":")[0], s) for k, _, s in kinds("a", "returned")] == [
            ("returned", "sent")
        ]
        assert headed(smtp, address("b"), "退回修改") == []

        assert unit_status("a") == "returned"
        shown = desk.unit("a")
        assert "退回修改" in shown and f"修改意见（{USER}）" in shown and "已退回" in shown
        assert "退回修改通知" in shown  # the message, in the unit's ledger
        link = a.page().text
        assert "退回修改意见" in link and "请补充活动现场图片" in link
        assert "修改并重新提交" in link

        # Returned, the unit is owed again: the ladder chases it with the others.
        monitor_at("2021-09-27T09:00")
        assert chased(smtp, address("a")) == [("提醒", "2021年9月27日")]
        assert chased(smtp, address("b")) == [("提醒", "2021年9月27日")]

        # The revision settles it: the next rung goes to the others only.
        revised = a.submit("第二版总结（已补充图片，参加人数120人）", [("补充.jpg", JPEG)])
        assert revised.headers["location"] == f"/d/{tokens['a']}/receipt/2"
        assert unit_status("a") == "submitted"
        monitor_at("2021-09-30T09:00")
        assert chased(smtp, address("a")) == [("提醒", "2021年9月27日")]
        assert chased(smtp, address("b")) == [("提醒", "2021年9月27日"), ("催办", "2021年9月30日")]
        again_page = desk.unit("a")
        assert 'name="version" value="2"' in again_page and "第二版总结" in again_page
        assert len(headed(smtp, address("a"), "退回修改")) == 1


# --- extension -------------------------------------------------------------------------------


def test_an_extension_moves_the_unit_to_its_new_deadline_and_ladder(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"])
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        desk = Dashboard(base)
        page = desk.unit("a")
        before = snapshot()
        for due, message in (
            ("2021-09-20", "新的截止时间必须晚于现在"),
            ("2021-09-24T09:00", "新的截止时间必须晚于现在"),
            ("2021-09-30", "新的截止时间与现在的截止时间相同"),
            ("下周五", "请填写新的截止日期"),
            ("", "请填写新的截止日期"),
        ):
            refused = desk.act("a", "extend", page=page, due=due)
            assert refused.status_code == 409, due
            assert message in page_error(refused.text), (due, page_error(refused.text))
        assert snapshot() == before

        moved = desk.act("a", "extend", page=page, due="2021-10-15")
        again = desk.act("a", "extend", page=page, due="2021-10-15")
        assert moved.headers["location"] == "/c/test-campaign/u/a?done=extended"
        assert again.status_code == 409  # the same date again changes nothing
        assert wait_until(lambda: settled("extended:"))
        (notice,) = headed(smtp, address("a"), "延期通知")
        assert "报送时间延至2021年10月15日（星期五）" in notice
        assert links_in(notice) == [tokens["a"]]
        assert headed(smtp, address("b"), "延期通知") == []

        assert "2021年10月15日（星期五）" in desk.unit("a")
        listing = desk.page("/c/test-campaign?sort=code")
        row_a, row_b = re.findall(r'<tr class="[^"]*" data-code="[ab]">.*?</tr>', listing, re.S)
        assert "2021-10-15 23:59" in row_a and "2021-09-30 23:59" in row_b
        assert "报送截止：<strong>2021年10月15日（星期五）24时</strong>" in (
            Department(base, tokens["a"]).page().text
        )
        assert "报送截止：<strong>2021年9月30日（星期四）24时</strong>" in (
            Department(base, tokens["b"]).page().text
        )

    # The old deadline's moments: the others are chased, the extended unit is not.
    for moment in ("2021-09-27T09:00", "2021-09-30T09:00", "2021-10-08T09:00", "2021-10-11T09:00"):
        monitor_at(moment)
    assert chased(smtp, address("a")) == []
    assert chased(smtp, address("b")) == [
        ("提醒", "2021年9月27日"),
        ("催办", "2021年9月30日"),
        ("督办", "2021年10月8日"),
    ]
    assert about(smtp, OFFICE, "a局") == []
    # The new deadline's moments: the whole ladder again, from the new date.
    for moment in ("2021-10-12T09:00", "2021-10-15T09:00", "2021-10-18T09:00", "2021-10-20T09:00"):
        monitor_at(moment)
    assert chased(smtp, address("a")) == [
        ("提醒", "2021年10月12日"),
        ("催办", "2021年10月15日"),
        ("督办", "2021年10月18日"),
    ]
    # No head or leaders in the file: the office gets the overdue copy and the escalation.
    assert about(smtp, OFFICE, "a局") == [
        ("逾期未报", "2021年10月18日"),
        ("逾期未报", "2021年10月20日"),
    ]
    reminder = next(m.body for m in smtp.to(address("a")) if m.subject.startswith("【提醒】"))
    assert "截止时间为2021年10月15日（星期五）24时，距截止还有3个工作日" in reminder
    assert len(chased(smtp, address("b"))) == 3  # nothing more for b
    rungs = [k for k, _, _ in ledger("a") if "@" in k]
    assert rungs and all(k.endswith("@202110151559") for k in rungs)  # 23:59:59 +08:00 in UTC


# --- resend ------------------------------------------------------------------------------------


def test_a_resent_notice_goes_once_per_click(tmp_path: Path, smtp: SmtpReceiver) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"])
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        desk = Dashboard(base)
        page = desk.unit("a")
        for _ in range(2):  # a double click
            answer = desk.act("a", "resend", page=page)
            assert answer.headers["location"] == "/c/test-campaign/u/a?done=resent"
        assert wait_until(lambda: settled("resent:"))
        assert len(headed(smtp, address("a"), "任务通知")) == 2  # the launch's, and one more

        # The same form posted from two threads at once: still one message.
        page = desk.unit("a")
        barrier = threading.Barrier(2)

        def click() -> None:
            barrier.wait()
            assert desk.act("a", "resend", page=page).status_code == 303

        threads = [threading.Thread(target=click) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert wait_until(lambda: len(headed(smtp, address("a"), "任务通知")) >= 3)
        assert wait_until(lambda: settled("resent:"))

        # Another click on a fresh page is another message.
        assert desk.act("a", "resend").status_code == 303
        assert wait_until(lambda: len(headed(smtp, address("a"), "任务通知")) >= 4)
        assert wait_until(lambda: settled("resent:"))
        notices = headed(smtp, address("a"), "任务通知")
        assert len(notices) == 4
        assert all(links_in(body) == [tokens["a"]] for body in notices)
        assert [s for k, _, s in ledger("a") if k.startswith("resent:")] == ["sent"] * 3
        assert len(headed(smtp, address("b"), "任务通知")) == 1
        assert desk.unit("a").count("重发通知") == 3
        assert "已重发任务通知" in desk.page("/c/test-campaign/u/a?done=resent")


# --- reassign ----------------------------------------------------------------------------------


def test_a_reassigned_unit_moves_to_its_new_contact_and_keeps_it(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    unreachable = f"mailto://127.0.0.1:{free_port()}?from=office@duban.test&to=old2@county.test"
    path, tokens = launch_units(tmp_path, smtp, ["a", "b"], extra_notify={"a": [unreachable]})
    assert [s for _, c, s in ledger("a") if c == unreachable] == ["failed"]
    coordinator_account()
    new = smtp.url("new@county.test")
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        old = Department(base, tokens["a"])
        assert old.submit("甲单位第一版总结", [("现场.jpg", JPEG)]).is_redirect
        desk = Dashboard(base)
        moved = desk.act("a", "reassign", notify=new, person="李四", phone="0598-7654321")
        assert moved.headers["location"] == "/c/test-campaign/u/a?done=reassigned"
        assert wait_until(lambda: settled("reassigned:"))

        gone = old.page()
        assert gone.status_code == 410 and "链接已失效" in gone.text
        assert "甲单位第一版总结" not in gone.text
        assert old.acknowledge().status_code == 410

        (notice,) = headed(smtp, "new@county.test", "任务通知")
        (token,) = links_in(notice)
        assert token != tokens["a"] and notice.startswith("a局：")
        assert "a局开展质量宣传活动。" in notice
        now_a = Department(base, token)
        page = now_a.page()
        assert page.status_code == 200
        assert "a局" in page.text and "甲单位第一版总结" in page.text and "第1版" in page.text
        file_id = re.search(r"/files/(\d+)", page.text).group(1)  # type: ignore[union-attr]
        assert now_a.client.get(f"/d/{token}/files/{file_id}").content == JPEG
        assert len(headed(smtp, address("a"), "任务通知")) == 1  # nothing more to the old one

        states = {c: s for k, c, s in ledger("a") if k == "notice"}
        assert states[unreachable] == "withdrawn"  # not retried to the old address
        assert states[smtp.url(address("a"))] == "sent"
        shown = desk.unit("a")
        assert "李四，0598-7654321" in shown and "新联系人通知" in shown

        # A later launch of the campaign file keeps the coordinator's choice.
        mails = len(smtp.mails)
        launch_flow(path=str(path), now=LAUNCHED)
        ((notify, person, phone),) = rows(
            "SELECT notify, person, phone FROM department WHERE code = 'a'"
        )
        assert (person, phone) == ("李四", "0598-7654321")
        assert new in str(notify) and address("a") not in str(notify)
        assert len(smtp.mails) == mails  # no notice again, to either contact
        assert [s for _, c, s in ledger("a") if c == unreachable] == ["withdrawn"]
        assert now_a.page().status_code == 200 and old.page().status_code == 410
        assert "李四，0598-7654321" in desk.unit("a")

        # Returned (so owed again), the unit is told and chased at its new address only.
        assert desk.act("a", "return", comment="请补充。").status_code == 303
        assert wait_until(lambda: settled("returned:"))
    (returned,) = headed(smtp, "new@county.test", "退回修改")
    assert links_in(returned) == [token]
    assert headed(smtp, address("a"), "退回修改") == []
    monitor_at("2021-09-27T09:00")
    assert chased(smtp, "new@county.test") == [("提醒", "2021年9月27日")]
    assert chased(smtp, address("a")) == []


# --- accept ------------------------------------------------------------------------------------


def test_the_coordinator_accepts_only_the_version_they_read(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        assert a.submit("第一版总结").is_redirect
        desk = Dashboard(base)
        read = desk.unit("a")
        assert 'name="version" value="1"' in read
        assert a.submit("第二版总结（改过）").headers["location"].endswith("/receipt/2")

        before, mails = snapshot(), len(smtp.mails)
        for action, fields in (("accept", {}), ("return", {"comment": "请修改"})):
            stale = desk.act("a", action, page=read, **fields)
            assert stale.status_code == 409
            assert "该单位已提交新的版本或第1版已审核，请刷新页面后再操作" in page_error(stale.text)
            assert "第二版总结（改过）" in stale.text  # the page now shows what arrived
        assert snapshot() == before and len(smtp.mails) == mails
        assert unit_status("a") == "submitted"

        fresh = desk.unit("a")
        accepted = desk.act("a", "accept", page=fresh)
        assert accepted.headers["location"] == "/c/test-campaign/u/a?done=accepted"
        assert unit_status("a") == "accepted"
        assert rows("SELECT version, review, reviewed_by FROM submission ORDER BY version") == [
            (1, None, None),
            (2, "accepted", USER),
        ]
        shown = desk.unit("a")
        assert "已验收" in shown and "accept-button" not in shown
        assert "已通过验收" in a.page().text

        twice = desk.act("a", "accept", page=fresh)
        assert twice.status_code == 409 and "该单位当前没有待审核的材料" in page_error(twice.text)
        assert rows("SELECT count(*) FROM submission WHERE review = 'accepted'") == [(1,)]
        assert len(smtp.mails) == mails  # accepting tells no one


# --- acknowledgement in reminders ------------------------------------------------------------


def test_reminders_say_whether_and_when_the_unit_acknowledged(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"])
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a, b = Department(base, tokens["a"]), Department(base, tokens["b"])
        assert a.acknowledge().headers["location"] == f"/d/{tokens['a']}"
        assert "已于2021-09-24 10:00签收" in a.page().text
        assert a.acknowledge().is_redirect  # again: the first one counts
        assert "签收任务" in b.page().text  # b only reads its page
        listing = Dashboard(base).page("/c/test-campaign?sort=code")
        assert "2021-09-24 10:00" in listing
    assert rows(
        "SELECT d.code, a.status, a.acknowledged_at IS NOT NULL FROM assignment a "
        "JOIN department d ON d.id = a.department_id ORDER BY d.code"
    ) == [("a", "acknowledged", True), ("b", "assigned", False)]

    monitor_at("2021-09-27T09:00")
    (to_a,) = [m.body for m in smtp.to(address("a")) if m.subject.startswith("【提醒】")]
    (to_b,) = [m.body for m in smtp.to(address("b")) if m.subject.startswith("【提醒】")]
    assert "（贵单位已于9月24日签收本任务。）" in to_a and "尚未签收" not in to_a
    assert "（贵单位尚未签收本任务，请打开下方链接签收。）" in to_b and "已于" not in to_b

    monitor_at("2021-10-08T09:00")  # overdue: the office's copies say it too
    (copy_a,) = [m.body for m in smtp.to(OFFICE) if "（a局）" in m.subject]
    (copy_b,) = [m.body for m in smtp.to(OFFICE) if "（b局）" in m.subject]
    assert "该单位已于9月24日签收任务。" in copy_a
    assert "该单位至今未签收任务。" in copy_b


def test_the_list_sums_up_each_units_messages_and_escapes_what_a_server_said(
    tmp_path: Path, smtp: SmtpReceiver, http: HttpReceiver
) -> None:
    """The list's message cell: the notice's state, how many messages, how many failed (with
    the last error, as the receiving server worded it, escaped) and how many are unconfirmed."""
    launch_units(tmp_path, smtp, ["a", "b"], extra_notify={"b": [http.url("refuse/b")]})
    monitor_at("2021-09-27T09:00")  # 提醒 to both; b's webhook refuses it
    # A server's answer may carry markup; and a sender stopped after sending a's reminder.
    execute(
        "UPDATE notification SET last_error = :e WHERE state = 'failed'",
        e="HTTP 500 <script>alert(1)</script>",
    )
    execute(
        "UPDATE notification SET state = 'sending' WHERE kind != 'notice' AND id = "
        "(SELECT min(n.id) FROM notification n JOIN assignment a ON a.id = n.assignment_id "
        "JOIN department d ON d.id = a.department_id WHERE d.code = 'a' AND n.kind != 'notice')"
    )
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        listing = Dashboard(base).page("/c/test-campaign?sort=code")
    row_a, row_b = (
        re.search(rf"<tr[^>]*>(?:(?!</tr>).)*?/u/{code}\b(?:(?!</tr>).)*</tr>", listing, re.S)[0]  # type: ignore[index]
        for code in ("a", "b")
    )
    assert "通知✓" in row_a and "共1条" in row_a and "待发1条" in row_a
    assert "失败" not in row_a
    assert "共2条" in row_b and "失败1条" in row_b and "待发" not in row_b
    assert "HTTP 500 &lt;script&gt;alert(1)&lt;/script&gt;" in row_b
    assert "<script>alert" not in listing
