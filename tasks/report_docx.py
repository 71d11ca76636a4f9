"""The report as a Word document, the format government offices exchange: 公文 fonts (方正小标宋
for the title, 黑体 for headings, 仿宋 for the text), the figures and the units as tables,
the progress chart and the units' pictures embedded."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import date
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from config.clock import format_local, local
from tasks import attachments
from tasks.rendering import STATUS_LABELS, format_deadline, period_text
from tasks.report import Report

TITLE_FONT, HEADING_FONT, BODY_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312"
EMBEDDED = ("jpg", "jpeg", "png", "gif", "bmp")  # what Word shows and python-docx reads
# XML 1.0 cannot carry these; a department's pasted text sometimes does.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str | None) -> str:
    return _NOT_IN_XML.sub("", text or "")


def write_docx(report: Report, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    tz, f = report.timezone, report.figures
    doc = Document()
    _fonts(doc)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, f"{clean(report.title)}总结报告", TITLE_FONT, 22)
    meta = doc.add_paragraph()
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    office = clean(report.spec.get("lead_office"))
    meta.add_run(f"{office}　{format_local(report.generated_at, tz)}".strip())
    if not report.final:
        mark = doc.add_paragraph()
        mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = _run(
            mark,
            f"进度报告：截至{format_local(report.generated_at, tz)}，活动尚未结束",
            HEADING_FONT,
            14,
        )
        run.font.color.rgb = RGBColor(0xB4, 0x23, 0x2A)
    if report.spec.get("theme"):
        doc.add_paragraph(f"活动主题：{clean(report.spec['theme'])}")
    period = period_text(report.spec)
    if period:
        doc.add_paragraph(f"活动时间：{period}")
    doc.add_paragraph(f"报送截止：{format_deadline(report.due_at, tz)}")

    doc.add_heading("一、总体情况", level=1)
    _table(
        doc,
        ["项目", "单位数"],
        [
            ["参加单位", f.units],
            ["按时报送", f.on_time],
            ["逾期报送", f.late],
            ["未报送", f.missing],
            ["退回修改后重报", f.returned_and_revised],
            ["发出提醒、催办", f.reminders_sent],
            ["发出督办", f.escalations_sent],
        ],
    )
    chart = progress_png(report)
    if chart:
        doc.add_picture(io.BytesIO(chart), width=Cm(15))
        doc.add_paragraph(
            "每日报送单位数（深色竖线为截止日）"
        ).alignment = WD_ALIGN_PARAGRAPH.CENTER

    doc.add_heading("二、各单位报送情况", level=1)
    _table(
        doc,
        ["单位代码", "单位", "状态", "提交时间", "逾期天数"],
        [
            [
                clean(u.code),
                clean(u.name),
                STATUS_LABELS[u.status],
                format_local(u.submitted_at, tz) if u.submitted_at else "未报送",
                u.days_late or "",
            ]
            for u in report.units
        ],
    )

    doc.add_heading("三、各单位活动总结", level=1)
    for number, u in enumerate((u for u in report.units if u.summary is not None), start=1):
        doc.add_heading(f"{number}. {clean(u.name)}", level=2)
        for line in clean(u.summary).split("\n"):
            doc.add_paragraph(line)
        if u.attachments:
            names = "；".join(clean(a["name"]) for a in u.attachments)
            doc.add_paragraph(f"附件：{names}")
        for a in u.attachments:
            _picture(doc, a)

    doc.add_heading("附：未报送单位及所受提醒", level=1)
    _table(
        doc,
        ["单位", "提醒与督办"],
        [
            [
                clean(u.name),
                "；".join(
                    f"{label}（{local(at, tz).month}月{local(at, tz).day}日）"
                    for label, at in u.messages
                )
                or "无",
            ]
            for u in report.missing
        ]
        or [["无", ""]],
    )
    path = out_dir / f"{report.slug}-report.docx"
    doc.save(str(path))
    return path


def _fonts(doc: Any) -> None:
    """Chinese text takes the East Asian font of a run's properties, not its Latin one."""
    for name, font, size in (
        ("Normal", BODY_FONT, 14),
        ("Heading 1", HEADING_FONT, 16),
        ("Heading 2", HEADING_FONT, 14),
    ):
        style = doc.styles[name]
        style.font.name = font
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _run(paragraph: Any, text: str, font: str, size: int) -> Any:
    run = paragraph.add_run(text)
    run.font.name = font
    run.font.size = Pt(size)
    run.font.bold = False
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    return run


def _table(doc: Any, header: list[str], rows: list[list[Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = str(value)


def _picture(doc: Any, attachment: dict[str, Any]) -> None:
    if attachment["name"].rsplit(".", 1)[-1].lower() not in EMBEDDED:
        return
    try:
        doc.add_picture(str(attachments.path_of(attachment["relpath"])), width=Cm(12))
    except Exception:  # a damaged or unreadable picture stays listed, not embedded
        return


def progress_png(report: Report, width: int = 800, height: int = 240) -> bytes:
    """The chart of `tasks.report_files.progress_svg` as a PNG for Word, drawn here: bars of
    units submitting per day and the deadline's day as a dark line."""
    days = report.by_day
    if not days:
        return b""
    top = max(n for _, n in days) or 1
    step = max((width - 20) // len(days), 1)
    due_day = date.fromordinal(local(report.due_at, report.timezone).toordinal())
    pixels = [bytearray(b"\xff\xff\xff" * width) for _ in range(height)]

    def fill(x0: int, x1: int, y0: int, y1: int, rgb: bytes) -> None:
        for y in range(max(y0, 0), min(y1, height)):
            row = pixels[y]
            for x in range(max(x0, 0), min(x1, width)):
                row[3 * x : 3 * x + 3] = rgb

    fill(10, width - 10, height - 11, height - 10, b"\x60\x60\x60")  # the axis
    for i, (day, n) in enumerate(days):
        x = 10 + i * step
        bar = (height - 30) * n // top
        fill(x + 1, x + step - 1, height - 11 - bar, height - 11, b"\xb4\x23\x2a")
        if day == due_day:
            fill(x + step - 1, x + step + 1, 5, height - 10, b"\x20\x20\x20")
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
