"""Screenshots for the docs: `docs/link-page.png`, `docs/dashboard.png` and `docs/report.png`.

    .venv/bin/python -m docs.screenshots        (or .venv/bin/python docs/screenshots.py)

It builds a realistic state of the 大田县 2021 campaign in a temporary data folder, through the
real code paths: the launch flow on 2021-09-13, departments acknowledging and submitting on
different days (`tasks.link.submission`), the coordinator returning one summary and accepting
others (`tasks.review`), and the monitor flow at the instants its ladder fires, so the ledger
holds real reminders. Mail goes to the outbox (no DUBAN_SMTP_URL). Then it starts `duban web`
with DUBAN_NOW=2021-10-11T10:00:00+08:00 and photographs the pages in headless Chromium.
The report is the final one `duban demo` makes, opened from its folder as a reader would.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tempfile
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from tasks.link.submission import Upload

SLUG = "datian-quality-month-2021"
TZ = "Asia/Shanghai"
SHOT_AT = "2021-10-11T10:00:00+08:00"
COORDINATOR, PASSWORD = "zlb-office", "datian-2021-quality"
RETURNED_CODE = "gxj"  # 县工信局: returned for revision, then silent past the deadline
RETURN_COMMENT = (
    "总结中未反映质量标杆经验交流和全面质量管理知识竞赛的开展情况，"
    "请补充活动场次、参与企业数量，并附现场照片后重新报送。"
)

# What happens, in order: (local time, action, unit code, detail).
TIMELINE: list[tuple[str, str, str, str]] = [
    ("2021-09-14T09:20", "acknowledge", "scjgj", ""),
    ("2021-09-14T10:05", "acknowledge", "gxj", ""),
    ("2021-09-14T15:40", "acknowledge", "jyj", ""),
    ("2021-09-15T08:50", "acknowledge", "wjj", ""),
    ("2021-09-16T11:10", "acknowledge", "gaj", ""),
    ("2021-09-17T16:30", "acknowledge", "sthjj", ""),
    (
        "2021-09-24T16:00",
        "submit",
        "scjgj",
        "县市场监管局围绕“深入实施质量提升行动 大力推进质量强县建设”主题，开展质量月启动仪式1场，"
        "组织重点工业产品质量安全监督抽查86批次，开展计量、认证“进企业”服务12家次，"
        "受理消费者质量投诉43件，全部按时办结。",
    ),
    ("2021-09-26T10:00", "accept", "scjgj", ""),
    ("2021-09-27T09:00", "monitor", "", ""),  # 提醒: three working days before 9-30
    ("2021-09-27T14:15", "acknowledge", "fgj", ""),
    (
        "2021-09-28T17:05",
        "submit",
        "gxj",
        "县工信局支持有关协会开展质量活动，深入落实《基础电子元器件产业发展行动计划》。",
    ),
    ("2021-09-29T09:30", "return", "gxj", RETURN_COMMENT),
    (
        "2021-09-29T11:20",
        "submit",
        "jyj",
        "县教育局在全县中小学开展“质量进校园”主题班会，覆盖学生1.2万人次。",
    ),
    ("2021-09-30T09:00", "monitor", "", ""),  # 催办: the deadline day
    (
        "2021-09-30T16:45",
        "submit",
        "wjj",
        "县卫健局开展医疗服务质量提升专项检查，督导医疗机构23家，整改问题31个。",
    ),
    ("2021-10-08T09:00", "monitor", "", ""),  # 督办, and 逾期未报 to the office
    ("2021-10-08T10:30", "accept", "wjj", ""),
    (
        "2021-10-08T15:10",
        "submit",
        "gaj",
        "县公安局结合“昆仑2021”专项行动，侦破侵权假冒案件2起，开展宣传活动3场。",
    ),
    ("2021-10-11T09:00", "monitor", "", ""),  # 督办函 and 情况报告
    ("2021-10-11T10:00", "monitor", "", ""),
]


def main() -> int:
    out_dir = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="duban-screenshots-") as tmp:
        _isolate(Path(tmp))
        tokens = build_state()
        shoot(tokens[RETURNED_CODE], out_dir)
        shoot_report(Path(tmp) / "demo", out_dir)
    print(
        f"wrote {out_dir / 'link-page.png'}, {out_dir / 'dashboard.png'}, {out_dir / 'report.png'}"
    )
    return 0


def shoot_report(folder: Path, out_dir: Path) -> None:
    """The HTML report of `duban demo`, its first screen (figures, chart, table of units)."""
    import subprocess

    from playwright.sync_api import sync_playwright

    from tests.browser import launch_chromium

    command = [sys.executable, "-m", "cli.main", "demo", "--dir", str(folder)]
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    (html,) = (folder / "reports" / SLUG).glob("*.html")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1500}, locale="zh-CN")
            page.goto(html.resolve().as_uri())
            page.screenshot(path=str(out_dir / "report.png"))
        finally:
            browser.close()


def _isolate(tmp: Path) -> None:
    """Everything in the temporary folder: duban's data and database, Prefect's home."""
    os.environ.update(
        {
            "DUBAN_DATA_DIR": str(tmp / "data"),
            "DUBAN_DATABASE_URL": f"sqlite:///{tmp / 'duban.db'}",
            "DUBAN_PUBLIC_URL": "http://duban.datian.example.cn",
            "PREFECT_HOME": str(tmp / "prefect"),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    for name in ("DUBAN_SMTP_URL", "DUBAN_NOW", "DUBAN_SECRET_KEY", "PREFECT_API_URL"):
        os.environ.pop(name, None)


def build_state() -> dict[str, str]:
    """Run the campaign up to 2021-10-11 10:00; returns each unit's link token, read from
    the notices in the outbox as a department reads its mail."""
    # Imported only now: Prefect reads PREFECT_HOME when it is imported.
    from config.settings import get_settings
    from flows.launch import launch_flow
    from flows.monitor import monitor_flow
    from tasks import review
    from tasks.accounts import save_account
    from tasks.link import submission
    from tasks.link.policy import Limits
    from tasks.messages.send import send_batch
    from tests.files import pdf_bytes, png_bytes

    get_settings.cache_clear()
    launch_flow(
        path=str(ROOT / "config" / "examples" / "datian-2021.yaml"), now=_at("2021-09-13T09:00")
    )
    tokens = _tokens(get_settings().outbox_dir)
    save_account(COORDINATOR, PASSWORD, now=_at("2021-09-13T09:00"))
    limits = Limits.from_settings()
    for when, action, code, detail in TIMELINE:
        now = _at(when)
        if action == "monitor":
            monitor_flow(now=now)
        elif action == "acknowledge":
            submission.acknowledge(submission.find_unit(tokens[code]), now)
        elif action == "submit":
            uploads = [
                _upload(f"{code}-活动现场.png", png_bytes(320, 200)),
                _upload(f"{code}-质量月活动总结.pdf", pdf_bytes()),
            ]
            submission.submit(
                submission.find_unit(tokens[code]), f"{code}-{when}", detail, uploads, limits, now
            )
        else:
            unit = review.find_unit(SLUG, code)
            assert unit is not None
            version = submission.history(unit["assignment_id"])[0]["version"]
            if action == "accept":
                review.accept(unit, version, COORDINATOR, now)
            else:
                returned = review.return_for_revision(unit, version, detail, COORDINATOR, now)
                send_batch.fn(returned, now)
    return tokens


def shoot(token: str, out_dir: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser import VIEWPORT, launch_chromium
    from tests.web_server import web_server

    with web_server(DUBAN_NOW=SHOT_AT) as base, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport=VIEWPORT, locale="zh-CN")
            page.goto(f"{base}/d/{token}")
            expect(page.locator(".returned")).to_contain_text("修改意见")
            page.screenshot(path=str(out_dir / "link-page.png"), full_page=True)

            page.goto(f"{base}/login?next=/c/{SLUG}")
            page.get_by_label("用户名").fill(COORDINATOR)
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            expect(page.locator("#units tbody tr.overdue").first).to_be_visible()
            page.screenshot(path=str(out_dir / "dashboard.png"), full_page=True)
        finally:
            browser.close()


def _at(local_time: str) -> datetime:
    from config.clock import parse_instant

    return parse_instant(local_time, TZ)


def _tokens(outbox: Path) -> dict[str, str]:
    """Unit code (the address's local part here) → token, from each unit's notice."""
    found: dict[str, str] = {}
    for path in outbox.rglob("*.eml"):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        if not str(mail["Subject"]).startswith("【任务通知】"):
            continue
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        link = re.search(r"/d/([A-Za-z0-9_-]+)", str(body.get_content()))
        assert link is not None, path
        found[str(mail["To"]).split("@", 1)[0]] = link.group(1)
    return found


def _upload(name: str, content: bytes) -> Upload:
    from tasks.link.submission import Upload

    return Upload(name, content[:2048], len(content), io.BytesIO(content))


if __name__ == "__main__":
    raise SystemExit(main())
