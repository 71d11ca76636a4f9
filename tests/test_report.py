"""The report's facts, gathered from a 大田县 campaign played through the real code."""

from __future__ import annotations

import csv
import os
import secrets
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from config.clock import parse_instant
from flows.launch import launch_flow
from models.db import get_engine
from tasks import review
from tasks.link.policy import Limits
from tasks.link.submission import Upload, find_unit, submit
from tasks.messages.send import send_batch
from tasks.monitor import plan_reminders, sendable_now
from tasks.report.facts import collect
from tests.campaigns import DATIAN, LAUNCH_DAY
from tests.campaigns import DATIAN_SLUG as SLUG
from tests.files import png_bytes
from tests.helpers import at, duban, send_in, token_of

pytestmark = pytest.mark.prefect


def monitor(when: str) -> None:
    now = at(when)
    for ids in sendable_now.fn(plan_reminders.fn(now), now, 500):
        send_batch.fn(ids, now)


def test_the_report_counts_what_the_database_holds() -> None:
    launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
    send_in("scjgj", "县市场监管局开展了质量月活动。", "2021-09-24T16:00", picture=True)
    review.accept(review.find_unit(SLUG, "scjgj") or {}, 1, "zlb", at("2021-09-25T09:00"))
    send_in("gxj", "初稿。", "2021-09-28T17:00")
    review.return_for_revision(
        review.find_unit(SLUG, "gxj") or {}, 1, "请补充数据。", "zlb", at("2021-09-29T09:00")
    )
    for moment in ("2021-09-27T09:00", "2021-09-30T09:00", "2021-10-08T09:00"):
        monitor(moment)
    send_in("gaj", "县公安局迟交的总结。", "2021-10-08T15:00")
    send_in("gxj", "修改稿：开展活动12场。", "2021-10-09T10:00")
    review.accept(review.find_unit(SLUG, "gxj") or {}, 2, "zlb", at("2021-10-09T11:00"))
    monitor("2021-10-11T09:00")

    report = collect.fn(SLUG, now=at("2021-10-12T09:00"))
    f = report.figures
    assert (f.units, f.on_time, f.late, f.missing, f.returned_and_revised) == (18, 2, 1, 15, 1)
    with get_engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT kind, recipient FROM notification WHERE state = 'sent' AND kind LIKE '%@%'"
            )
        ).all()
    to_units = Counter(k.split("@")[0] for k, r in rows if r in ("department", "head"))
    copies = Counter(r for _, r in rows if r not in ("department", "head"))
    assert f.reminders_sent == to_units["reminder"] + to_units["urgent"] > 0
    # 督办 counts messages to units only: copies to the office and reports to the leadership
    # group are figures of their own.
    assert f.escalations_sent == to_units["overdue"] + to_units["escalation"] > 0
    assert (f.copies_to_office, f.reports_to_leaders) == (copies["coordinator"], copies["leaders"])
    assert f.copies_to_office > 0 and f.reports_to_leaders > 0

    units = {u.code: u for u in report.units}
    listed = [d["code"] for d in yaml.safe_load(DATIAN.read_text("utf-8"))["departments"]]
    assert [u.code for u in report.units] == listed  # the notice's order
    assert units["scjgj"].summary == "县市场监管局开展了质量月活动。"
    assert units["scjgj"].headline == "开展了质量月活动"  # its first sentence, without its name
    assert [a["name"] for a in units["scjgj"].attachments] == ["scjgj.png"]
    assert (units["gxj"].version, units["gxj"].summary, units["gxj"].revised) == (
        2,
        "修改稿：开展活动12场。",
        True,
    )
    assert units["gxj"].days_late == 0  # its first version came in time
    # Accepted summaries only, unless the coordinator asks for the latest ones.
    assert (units["gaj"].summary, units["gaj"].days_late, units["gaj"].status) == (None, 8, "late")
    latest = {u.code: u for u in collect.fn(SLUG, which="latest", now=at("2021-10-12T09:00")).units}
    assert latest["gaj"].summary == "县公安局迟交的总结。"

    # Never delivered: listed with every reminder and escalation they received, overdue up to
    # the report's day (30 September to 12 October).
    missing = {u.code: u for u in report.missing}
    assert len(missing) == 15 and "gaj" not in missing
    assert missing["fgj"].days_late == 12
    assert [label for label, _ in missing["fgj"].messages] == [
        "提醒",
        "催办",
        "督办",
        "逾期未报（抄送本办）",
        "情况报告（领导小组）",
    ]
    # Progress by day, from the first submission to the last.
    days = {day: (on_time, late) for day, on_time, late in report.by_day}
    assert (report.by_day[0][0], report.by_day[-1][0]) == (date(2021, 9, 24), date(2021, 10, 8))
    assert (days[date(2021, 9, 24)], days[date(2021, 9, 28)], days[date(2021, 10, 8)]) == (
        (1, 0),
        (1, 0),
        (0, 1),
    )
    assert sum(a + b for a, b in days.values()) == 3

    # The report files, read back as a reader would: the HTML's tables and picture, the CSV.
    from html.parser import HTMLParser

    from tasks.report.html_csv import write_csv, write_html

    out = Path(os.environ["DUBAN_DATA_DIR"]).parent / "report"
    html = write_html(report, out).read_text(encoding="utf-8")
    assert "活动进展情况" in html  # asked by hand before the end: marked as a progress report

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.table: str | None = None
            self.rows: dict[str, list[list[str]]] = defaultdict(list)
            self.images: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "table":
                self.table = dict(attrs).get("id")
            elif tag == "tr" and self.table:
                self.rows[self.table].append([])
            elif tag in ("td", "th") and self.table:
                self.rows[self.table][-1].append("")
            elif tag == "img":
                self.images.append(dict(attrs)["src"] or "")

        def handle_data(self, data: str) -> None:
            if self.table and self.rows[self.table] and self.rows[self.table][-1]:
                self.rows[self.table][-1][-1] += data.strip()

    cells = Cells()
    cells.feed(html)
    figures = dict(cells.rows["figures"])
    assert (figures["参加单位（个）"], figures["逾期报送（个）"], figures["未报送（个）"]) == (
        "18",
        "1",
        "15",
    )
    units_table = {row[1]: row for row in cells.rows["units"][1:]}
    assert len(units_table) == 18 and units_table["县公安局"][2:] == ["逾期报送", "10月8日", "8"]
    assert cells.images == ["datian-quality-month-2021-files/" + cells.images[0].split("/")[-1]]
    assert (out / cells.images[0]).read_bytes() == png_bytes(32, 24)
    assert "<svg" in html and "每日报送单位数" in html

    rows = list(csv.DictReader(write_csv(report, out).open(encoding="utf-8-sig")))
    assert len(rows) == 18
    by_code = {r["单位代码"]: r for r in rows}
    assert by_code["gxj"]["退回修改后重报"] == "是" and by_code["fgj"]["状态"] == "未签收"
    assert (by_code["gaj"]["首次报送日期"], by_code["gaj"]["首次报送时间"]) == (
        "2021-10-08",
        "15:00",
    )
    assert by_code["gaj"]["逾期天数"] == "8" and by_code["fgj"]["逾期天数"] == "12"

    # The Word document: its sections, its tables' rows and figures, the embedded pictures.
    from docx import Document

    from tasks.report.docx import write_docx

    doc = Document(str(write_docx(report, out)))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        "一、总体情况",
        "二、各单位开展情况",
        "（一）县工信局：修改稿：开展活动12场",
        "（二）县市场监管局：开展了质量月活动",
        "附件1",
        "附件2",
    ]
    figures_table, units_doc, missing_doc = doc.tables
    assert {r.cells[0].text: r.cells[1].text for r in figures_table.rows[1:]} == {
        "参加单位（个）": "18",
        "按时报送（个）": "2",
        "逾期报送（个）": "1",
        "未报送（个）": "15",
        "退回修改后重报（个）": "1",
        "向单位发出提醒、催办（次）": str(f.reminders_sent),
        "向单位发出督办（次）": str(f.escalations_sent),
        "逾期未报抄送本办（次）": str(f.copies_to_office),
        "向领导小组报告（次）": str(f.reports_to_leaders),
    }
    assert len(units_doc.rows) == 19 and len(missing_doc.rows) == 16
    texts = [p.text for p in doc.paragraphs]
    assert "修改稿：开展活动12场。" in texts and "县市场监管局开展了质量月活动。" in texts
    assert texts[0] == "大田县2021年“质量月”活动进展情况"
    assert texts[1].startswith("（截至2021年10月12日")
    # The chart and 县市场监管局's picture are embedded.
    assert len(doc.inline_shapes) == 2
    body_font = doc.styles["Normal"].element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
    )
    assert body_font == "仿宋_GB2312"


def test_departments_text_never_breaks_the_word_document(tmp_path: Path) -> None:
    from docx import Document

    from tasks.report.docx import clean, write_docx

    launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
    hostile = "控制\x00字符\x07与\x1b转义；emoji 🎉；繁體字；<b>标记</b>\n" + "很长的总结。" * 8000
    send_in("scjgj", hostile, "2021-09-24T16:00")
    send_in("gaj", "", "2021-09-24T16:00", picture=True)  # a picture and no words
    report = collect.fn(SLUG, which="latest", now=at("2021-09-25T09:00"))
    doc = Document(str(write_docx(report, tmp_path)))
    texts = [p.text for p in doc.paragraphs]
    assert clean(hostile).split("\n")[0] in texts
    assert "控制字符与转义；emoji 🎉；繁體字；<b>标记</b>" in texts


def test_duban_report_writes_the_three_files_and_refuses_an_unknown_campaign(
    tmp_path: Path,
) -> None:
    from docx import Document

    launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
    send_in("scjgj", "县市场监管局开展了质量月活动。", "2021-09-24T16:00", picture=True)
    out = tmp_path / "out"
    run = duban("report", SLUG, "--out", str(out), "--latest", "--now", "2021-09-25T09:00")
    assert run.returncode == 0, run.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        f"{SLUG}-files",
        f"{SLUG}-report.docx",
        f"{SLUG}-report.html",
        f"{SLUG}-statistics.csv",
    ]
    assert f"Progress report of {SLUG}" in run.stdout
    assert "县市场监管局开展了质量月活动。" in [
        p.text for p in Document(str(out / f"{SLUG}-report.docx")).paragraphs
    ]

    missing = duban("report", "no-such-campaign", "--out", str(tmp_path / "x"))
    assert missing.returncode == 2
    assert "没有代号为「no-such-campaign」的活动" in missing.stderr
    assert not (tmp_path / "x").exists()


def test_the_word_document_embeds_a_phone_photo_shrunk_and_upright(tmp_path: Path) -> None:
    import hashlib
    import io
    import zipfile

    from docx import Document
    from docx.shared import Cm
    from PIL import Image

    from tasks.link.storage import path_of
    from tasks.report.docx import write_docx
    from tasks.report.pictures import MAX_SIDE_PX

    launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
    # A phone photo as phones store it: 4000x3000 pixels lying on their side, with the EXIF
    # flag (orientation 6) that tells viewers to turn it a quarter to the right.
    photo = Image.merge("RGB", [Image.effect_noise((4000, 3000), 40) for _ in range(3)])
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90, exif=exif)
    data = out.getvalue()
    assert len(data) > 3 * 1024 * 1024
    upload = Upload("活动现场.jpg", data[:2048], len(data), io.BytesIO(data))
    unit = find_unit(token_of("scjgj"))
    submit(
        unit,
        secrets.token_hex(8),
        "现场照片。",
        [upload],
        Limits.from_settings(),
        at("2021-09-24T16:00"),
    )
    report = collect.fn(SLUG, which="latest", now=at("2021-09-25T09:00"))
    [stored] = next(u for u in report.units if u.code == "scjgj").attachments
    original = path_of(stored["relpath"])

    docx = write_docx(report, tmp_path)

    # The file on disk is the one uploaded, byte for byte.
    assert hashlib.sha256(original.read_bytes()).hexdigest() == stored["sha256"]
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    # The document carries a small copy, upright: portrait, at most the cap on its long side.
    assert docx.stat().st_size < len(data) / 5
    with zipfile.ZipFile(docx) as package:
        media = [
            Image.open(io.BytesIO(package.read(n))) for n in package.namelist() if "/media/" in n
        ]
    [embedded] = [m for m in media if m.format == "JPEG"]  # the other one is the chart (PNG)
    assert max(embedded.size) <= MAX_SIDE_PX and embedded.width < embedded.height
    assert embedded.width >= MAX_SIDE_PX // 2  # still sharp when printed 12 cm wide
    assert 0x0112 not in embedded.getexif()  # no flag left to turn it a second time
    shape = Document(str(docx)).inline_shapes[1]
    assert shape.width == Cm(12) and shape.height > shape.width
