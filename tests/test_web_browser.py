"""End to end in a real browser: the 大田县 campaign, launched with notices through a real SMTP
server, then a department and a coordinator working through a real `duban web` process.

The department follows the link its notice e-mail carries: it acknowledges, submits a summary
with a picture and a PDF, is sent back with a comment (by mail, with the same link), revises,
and is accepted. After the deadline the coordinator's dashboard leads with the overdue units.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import text

from config.clock import parse_instant
from flows.launch import launch_flow
from models.db import get_engine
from tasks.link.policy import Limits
from tasks.link.storage import path_of
from tasks.link.submission import acknowledge, find_unit, submit
from tests.campaigns import DATIAN, LAUNCH_DAY, links_in
from tests.files import pdf_bytes, png_bytes
from tests.receivers import Mail, SmtpReceiver
from tests.web_server import ROOT, web_server

pytestmark = pytest.mark.prefect

pytest_plugins = ["tests.browser"]

SLUG = "datian-quality-month-2021"
TZ = "Asia/Shanghai"
UNIT_CODE, UNIT_NAME, UNIT_MAIL = "gaj", "县公安局", "gaj@datian.example.cn"
BEFORE_DEADLINE = "2021-09-28T10:00:00+08:00"
AFTER_DEADLINE = "2021-10-08T10:00:00+08:00"
COORDINATOR, PASSWORD = "zlb-office", "datian-2021-quality"

SUMMARY_V1 = (
    "县公安局围绕打击侵权假冒犯罪，结合“昆仑2021”专项行动，开展质量月宣传活动3场，侦破案件2起。"
)
SUMMARY_V2 = SUMMARY_V1 + "\n补充：共出动警力46人次，发放宣传资料1200份，现场照片见附件。"
RETURN_COMMENT = "请补充出动警力和宣传资料发放的具体数字，并附现场照片说明。"


def wait_for_mail(
    relay: SmtpReceiver, wanted: Callable[[Mail], bool], timeout: float = 20
) -> list[Mail]:
    """The mails that match, as soon as one has arrived (the web server sends after it
    answers, so the page can be ahead of the mail)."""
    arrived = threading.Event()
    relay.on_message = arrived.set
    try:
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in list(relay.mails) if wanted(m)]
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                subjects = [m.subject for m in relay.mails]
                raise AssertionError(f"no such mail within {timeout}s; received {subjects}")
            arrived.wait(left)
            arrived.clear()
    finally:
        relay.on_message = None


def add_coordinator() -> None:
    """The account, made the way an operator makes it."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "coordinator", "add", COORDINATOR, "--password-stdin"],
        cwd=ROOT,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"Coordinator {COORDINATOR}: created" in done.stdout


def sign_in(page: Page, base: str, target: str) -> None:
    """Open a dashboard page, get sent to the login page, sign in, land on the page."""
    page.goto(base + target)
    expect(page).to_have_url(f"{base}/login?next={target}")
    page.get_by_label("用户名").fill(COORDINATOR)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + target)
    expect(page.locator(".topbar .who")).to_have_text(COORDINATOR)


def department_token(relay: SmtpReceiver, address: str) -> str:
    notices = [m for m in relay.to(address) if m.subject.startswith("【任务通知】")]
    assert len(notices) == 1, [m.subject for m in relay.to(address)]
    links = links_in(notices[0].body)
    assert len(links) == 1, notices[0].body
    return links[0]


def rows_of(page: Page) -> list[dict[str, str]]:
    """The dashboard's table as a user reads it, top to bottom."""
    rows = page.locator("#units tbody tr")
    return [
        {
            "code": row.get_attribute("data-code") or "",
            "class": row.get_attribute("class") or "",
            "text": row.inner_text(),
        }
        for row in rows.all()
    ]


def db_versions(code: str) -> list[dict[str, object]]:
    with get_engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.id, s.version, s.summary, s.review, s.review_comment, s.reviewed_by, "
                "(SELECT count(*) FROM attachment t WHERE t.submission_id = s.id) AS files "
                "FROM submission s JOIN assignment a ON a.id = s.assignment_id "
                "JOIN department d ON d.id = a.department_id WHERE d.code = :code "
                "ORDER BY s.version"
            ),
            {"code": code},
        ).mappings()
        return [dict(r) for r in rows]


def db_status(code: str) -> str:
    with get_engine().connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT a.status FROM assignment a JOIN department d "
                    "ON d.id = a.department_id WHERE d.code = :code"
                ),
                {"code": code},
            ).scalar_one()
        )


def test_a_department_submits_is_returned_revises_and_is_accepted_then_overdue_units_lead(
    relay: SmtpReceiver,
    new_context: Callable[[], BrowserContext],
    tmp_path: Path,
) -> None:
    launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
    assert len([m for m in relay.mails if m.subject.startswith("【任务通知】")]) == 18
    token = department_token(relay, UNIT_MAIL)
    add_coordinator()

    picture = tmp_path / "upload" / "现场宣传照片.png"
    plan = tmp_path / "upload" / "县公安局质量月活动总结.pdf"
    picture.parent.mkdir()
    picture.write_bytes(png_bytes())
    plan.write_bytes(pdf_bytes())

    # 县市场监管局 delivers on 9-29 through the same functions the link page calls.
    other = find_unit(department_token(relay, "scjgj@datian.example.cn"))
    at = parse_instant("2021-09-29T15:00:00+08:00")
    acknowledge(other, at)
    submit(other, "scjgj-form-1", "县市场监管局开展质量月活动情况总结。", [], limits(), at)

    env = {"DUBAN_NOW": BEFORE_DEADLINE, "DUBAN_SMTP_URL": relay.relay_url()}
    with web_server(**env) as base:
        department = new_context().new_page()
        coordinator = new_context().new_page()
        link = f"{base}/d/{token}"

        # The department opens the link from its notice: its duties, its deadline, 签收.
        department.goto(link)
        expect(department.locator("#unit-name")).to_have_text(UNIT_NAME)
        expect(department.locator(".deadline")).to_contain_text("2021年9月30日")
        expect(department.locator("#countdown")).to_have_text("还剩2天13小时")
        expect(department.get_by_text("昆仑2021", exact=False)).to_be_visible()
        department.get_by_role("button", name="签收任务").click()
        expect(department.locator("#acknowledge")).to_contain_text("已于2021-09-28 10:00签收。")
        expect(department.get_by_role("button", name="签收任务")).to_have_count(0)

        # Its summary, a picture and a PDF.
        department.locator("textarea[name=summary]").fill(SUMMARY_V1)
        department.locator("input[name=attachments]").set_input_files([picture, plan])
        department.get_by_role("button", name="提交", exact=True).click()
        expect(department).to_have_url(f"{link}/receipt/1")
        receipt = department.locator(".receipt")
        expect(receipt.locator("h1")).to_have_text("提交成功")
        expect(receipt.locator("#receipt-text")).to_have_text(
            "县公安局已于2021-09-28 10:00提交大田县2021年“质量月”活动总结材料（第1版）。"
        )
        expect(receipt.locator(".files li")).to_have_count(2)
        expect(receipt.locator(".files")).to_contain_text(picture.name)
        expect(receipt.locator(".files")).to_contain_text(plan.name)

        # The coordinator signs in and finds the unit on the campaign's dashboard.
        sign_in(coordinator, base, f"/c/{SLUG}")
        row = coordinator.locator(f"#units tr[data-code={UNIT_CODE}]")
        expect(row).to_contain_text("已报送")
        expect(row).to_contain_text("2021-09-28 10:00")
        expect(row).not_to_have_class("overdue")
        row.get_by_role("link", name=UNIT_NAME, exact=True).click()
        expect(coordinator).to_have_url(f"{base}/c/{SLUG}/u/{UNIT_CODE}")
        version = coordinator.locator("article.version[data-version='1']")
        expect(version.locator(".summary")).to_have_text(SUMMARY_V1)
        thumb = version.locator("img.thumb")
        expect(thumb).to_have_attribute("alt", picture.name)
        expect(thumb).to_be_visible()
        # decode() waits for the picture and fails if the browser cannot show it.
        assert thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 64
        expect(version.locator(".files")).to_contain_text(plan.name)

        # It goes back with a comment; the unit gets one mail with the comment and its link.
        coordinator.locator("#comment").fill(RETURN_COMMENT)
        coordinator.get_by_role("button", name="退回修改").click()
        expect(coordinator.get_by_role("status")).to_have_text("已退回修改，并已通知该单位。")
        expect(coordinator.locator("h1 .status")).to_have_text("退回修改")
        returned = wait_for_mail(relay, lambda m: m.subject.startswith("【退回修改】"))
        assert len(returned) == 1
        assert returned[0].rcpt == [UNIT_MAIL]
        assert returned[0].subject == "【退回修改】大田县2021年“质量月”活动（县公安局）"
        assert RETURN_COMMENT in returned[0].body
        assert links_in(returned[0].body) == [token]

        # The department reopens its link: the comment, then its revision (第2版).
        department.goto(link)
        expect(department.locator(".returned")).to_contain_text(RETURN_COMMENT)
        summary = department.locator("textarea[name=summary]")
        expect(summary).to_have_value(SUMMARY_V1)
        summary.fill(SUMMARY_V2)
        department.get_by_role("button", name="提交", exact=True).click()
        expect(department).to_have_url(f"{link}/receipt/2")
        expect(department.locator("#receipt-text")).to_contain_text("（第2版）")

        # The coordinator reads version 2 and accepts it.
        coordinator.goto(f"{base}/c/{SLUG}/u/{UNIT_CODE}")
        latest = coordinator.locator("article.version").first
        expect(latest.locator("h4")).to_contain_text("第2版")
        expect(latest.locator(".summary")).to_have_text(SUMMARY_V2)
        expect(coordinator.locator("article.version[data-version='1']")).to_contain_text(
            RETURN_COMMENT
        )
        coordinator.get_by_role("button", name="验收通过").click()
        expect(coordinator.get_by_role("status")).to_have_text("已验收该单位的材料。")
        expect(coordinator.locator("h1 .status")).to_have_text("已验收")

        # The department sees it accepted, and no form any more.
        department.goto(link)
        expect(department.locator(".deadline .badge")).to_have_text("已验收")
        expect(department.get_by_text("贵单位的材料已通过验收，感谢支持！")).to_be_visible()
        expect(department.locator("form textarea[name=summary]")).to_have_count(0)
        expect(department.locator("input[name=attachments]")).to_have_count(0)
        expect(department.locator("#history article.version")).to_have_count(2)

    # What the database kept: both versions, the verdicts, the files of the first one.
    versions = db_versions(UNIT_CODE)
    assert [(v["version"], v["review"], v["files"]) for v in versions] == [
        (1, "returned", 2),
        (2, "accepted", 0),
    ]
    assert versions[0]["summary"] == SUMMARY_V1
    assert versions[0]["review_comment"] == RETURN_COMMENT
    assert versions[1]["summary"] == SUMMARY_V2
    assert {v["reviewed_by"] for v in versions} == {COORDINATOR}
    assert db_status(UNIT_CODE) == "accepted"
    stored = _stored_files(versions[0]["id"])
    assert sorted(p.read_bytes() for p in stored) == sorted([png_bytes(), pdf_bytes()])
    assert [m.subject for m in relay.to(UNIT_MAIL)] == [
        "【任务通知】大田县2021年“质量月”活动（县公安局）",
        "【退回修改】大田县2021年“质量月”活动（县公安局）",
    ]

    # After the deadline (the first working day after the National Day week).
    with web_server(DUBAN_NOW=AFTER_DEADLINE, DUBAN_SMTP_URL=relay.relay_url()) as base:
        coordinator = new_context().new_page()
        sign_in(coordinator, base, f"/c/{SLUG}")
        expect(coordinator.locator("#units tbody tr")).to_have_count(18)
        rows = rows_of(coordinator)
        overdue = [r for r in rows if "overdue" in r["class"].split()]
        assert len(overdue) == 16
        assert rows[:16] == overdue, "overdue units come first"
        for r in overdue:
            assert "逾期8天" in r["text"], r
        assert {r["code"] for r in rows[16:]} == {UNIT_CODE, "scjgj"}
        tail = {r["code"]: r["text"] for r in rows[16:]}
        assert "已验收" in tail[UNIT_CODE] and "逾期" not in tail[UNIT_CODE]
        assert "已报送" in tail["scjgj"] and "逾期" not in tail["scjgj"]
        first = coordinator.locator("#units tbody tr").first
        expect(first.locator(".days")).to_have_text("逾期8天")

        # The 逾期未报 filter: only the overdue units.
        coordinator.get_by_role("link", name="逾期未报 16").click()
        expect(coordinator).to_have_url(re.compile(r"[?&]status=overdue(&|$)"))
        expect(coordinator.locator("#units tbody tr")).to_have_count(16)
        expect(coordinator.locator(".filters a.current")).to_have_text("逾期未报 16")
        filtered = rows_of(coordinator)
        assert [r["code"] for r in filtered] == [r["code"] for r in overdue]
        assert all("overdue" in r["class"].split() for r in filtered)
        expect(coordinator.locator(".pager")).to_contain_text("共 16 个单位")

        # An overdue unit's own page says so, in the server's days, not the browser's.
        late_page = new_context().new_page()
        late_page.goto(f"{base}/d/{department_token(relay, 'fgj@datian.example.cn')}")
        expect(late_page.locator("#unit-name")).to_have_text("县发改局")
        expect(late_page.locator("#countdown")).to_have_text("已逾期8天")
        expect(late_page.locator("#submit .warn")).to_have_text(
            "已超过报送截止时间，现在提交将记为逾期报送。"
        )


def limits() -> Limits:
    return Limits.from_settings()


def _stored_files(submission_id: object) -> list[Path]:
    with get_engine().connect() as conn:
        relpaths = conn.execute(
            text("SELECT relpath FROM attachment WHERE submission_id = :s"), {"s": submission_id}
        ).scalars()
        return [path_of(r) for r in relpaths]
