"""Screenshots for the docs: `docs/link-page.png`, `docs/dashboard.png`, `docs/report.png` and
`docs/report-docx.png`.

    .venv/bin/python -m docs.screenshots        (or .venv/bin/python docs/screenshots.py)

It rehearses the 大田县 2021 campaign in a temporary folder with `flows.rehearsal`, through
the real code paths: the launch flow on 2021-09-13, departments acknowledging and submitting
on different days, the coordinator returning one summary and accepting others, and the
monitor flow at the instants its ladder fires, so the ledger holds real reminders. Mail goes
to the outbox. Then it starts `duban web` with DUBAN_NOW=2021-10-11T10:00:00+08:00 and
photographs the pages in headless Chromium (Debian's `/usr/bin/chromium`). The report is the
final one `duban demo` makes, opened from its folder as a reader would; its Word document's
first page is rendered by LibreOffice (Debian's `libreoffice-writer-nogui`) and poppler.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.rehearsal import Rehearsal, Step, activity_picture, isolate  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright, ViewportSize

SLUG = "datian-quality-month-2021"
TZ = "Asia/Shanghai"
LAUNCHED = "2021-09-13T09:00"
SHOT_AT = "2021-10-11T10:00:00+08:00"
COORDINATOR, PASSWORD = "zlb-office", "datian-2021-quality"
RETURNED_CODE = "gxj"  # 县工信局: returned for revision, then silent past the deadline
RETURN_COMMENT = (
    "总结中未反映质量标杆经验交流和全面质量管理知识竞赛的开展情况，"
    "请补充活动场次、参与企业数量，并附现场照片后重新报送。"
)
CHROMIUM = "/usr/bin/chromium"  # `playwright install` cannot download browsers here
# Without the networking flags Chromium stalls on refused connections (no network here).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}

# What happens, in order: (local time, action, unit code, detail).
TIMELINE: list[tuple[str, str, str, str]] = [
    ("2021-09-14T09:20", "sign", "scjgj", ""),
    ("2021-09-14T10:05", "sign", "gxj", ""),
    ("2021-09-14T15:40", "sign", "jyj", ""),
    ("2021-09-15T08:50", "sign", "wjj", ""),
    ("2021-09-16T11:10", "sign", "gaj", ""),
    ("2021-09-17T16:30", "sign", "sthjj", ""),
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
    ("2021-09-27T14:15", "sign", "fgj", ""),
    (
        "2021-09-28T17:05",
        "submit",
        "gxj",
        "县工信局支持有关协会开展质量活动，深入落实《基础电子元器件产业发展行动计划》。",
    ),
    ("2021-09-29T09:30", "send_back", "gxj", RETURN_COMMENT),
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
        # Prefect reads PREFECT_HOME when it is first imported, by the rehearsal's launch.
        isolate(
            Path(tmp) / "data",
            DUBAN_PUBLIC_URL="http://duban.datian.example.cn",
            PREFECT_HOME=str(Path(tmp) / "prefect"),
        )
        tokens = build_state()
        shoot(tokens[RETURNED_CODE], out_dir)
        shoot_report(Path(tmp) / "demo", out_dir)
    print(f"wrote link-page.png, dashboard.png, report.png and report-docx.png in {out_dir}")
    return 0


def build_state() -> dict[str, str]:
    """Run the campaign up to 2021-10-11 10:00; returns each unit's link token."""
    from config.clock import parse_instant
    from tasks.accounts import save_account

    def at(local_time: str) -> datetime:
        return parse_instant(local_time, TZ)

    rehearsal = Rehearsal(SLUG, COORDINATOR)
    rehearsal.launch(ROOT / "config" / "examples" / "datian-2021.yaml", at(LAUNCHED))
    save_account(COORDINATOR, PASSWORD, now=at(LAUNCHED))
    rehearsal.play(
        Step(at(when), action, code, text, _files(code) if action == "submit" else ())
        for when, action, code, text in TIMELINE
    )
    return rehearsal.links


def _files(code: str) -> tuple[tuple[str, bytes], ...]:
    """What a unit attaches: a picture of its activity and its summary as a PDF."""
    from PIL import Image

    picture = activity_picture(len(code))
    document = io.BytesIO()
    Image.open(io.BytesIO(picture)).save(document, "PDF")
    return ((f"{code}-活动现场.jpg", picture), (f"{code}-质量月活动总结.pdf", document.getvalue()))


def shoot(token: str, out_dir: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with _web(DUBAN_NOW=SHOT_AT) as base, sync_playwright() as playwright:
        browser = _chromium(playwright)
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


def shoot_report(folder: Path, out_dir: Path) -> None:
    """The HTML report of `duban demo`, its first screen (figures, chart, table of units)."""
    from playwright.sync_api import sync_playwright

    command = [sys.executable, "-m", "cli.main", "demo", "--dir", str(folder)]
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    (html,) = (folder / "reports" / SLUG).glob("*.html")
    with sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1500}, locale="zh-CN")
            page.goto(html.resolve().as_uri())
            page.screenshot(path=str(out_dir / "report.png"))
        finally:
            browser.close()
    (docx,) = (folder / "reports" / SLUG).glob("*.docx")
    word_page(docx, out_dir / "report-docx.png")


def word_page(docx: Path, png: Path) -> None:
    """Page 1 of a Word document as LibreOffice lays it out, as a PNG."""
    with tempfile.TemporaryDirectory(prefix="duban-docx-") as tmp:
        profile = Path(tmp) / "profile"  # LibreOffice's own, not the user's (no lock shared)
        convert = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless"]
        subprocess.run(
            [*convert, "--convert-to", "pdf", "--outdir", tmp, str(docx)],
            check=True,
            capture_output=True,
        )
        pdf = Path(tmp) / f"{docx.stem}.pdf"
        first = ["pdftoppm", "-f", "1", "-l", "1", "-r", "80", "-png", "-singlefile"]
        subprocess.run([*first, str(pdf), str(png.with_suffix(""))], check=True)


@contextmanager
def _web(**environment: str) -> Iterator[str]:
    """`duban web` on a free loopback port, as a coordinator runs it; yields its address."""
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "cli.main", "web", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **environment}, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    raise RuntimeError("duban web stopped") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


if __name__ == "__main__":
    raise SystemExit(main())
