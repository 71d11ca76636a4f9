"""The report as a Word document, the format government offices exchange: 公文 fonts (方正小标宋
for the title, 黑体 for headings, 仿宋 for the text), the figures and the units as tables,
the progress chart and the units' pictures embedded."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image as DocxImage
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Cm, Length, Pt, RGBColor
from docx.text.paragraph import Paragraph

from config.clock import format_local, local, month_day
from config.private_files import open_private, private_folder
from tasks.messages.labels import STATUS_LABELS
from tasks.messages.render import format_deadline, period_text
from tasks.report.chart import progress_png
from tasks.report.facts import Report
from tasks.report.pictures import shrunk

TITLE_FONT, HEADING_FONT, BODY_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312"
PICTURE_WIDTH_CM = 12
# XML 1.0 cannot carry these; a department's pasted text sometimes does.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str | None) -> str:
    return _NOT_IN_XML.sub("", text or "")


def write_docx(report: Report, out_dir: Path) -> Path:
    private_folder(out_dir)
    tz, f = report.timezone, report.figures
    doc = Document()
    _fonts(doc)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, f"{clean(report.title)}总结报告", TITLE_FONT, 22)
    meta = doc.add_paragraph()
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    office = clean(report.spec.lead_office)
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
    if report.spec.theme:
        doc.add_paragraph(f"活动主题：{clean(report.spec.theme)}")
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
    body = _Body(doc)
    pictures = _Pictures(doc, body)
    chart = progress_png(report)
    if chart:
        pictures.add(chart, Cm(15))
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
    reported = [u for u in report.units if u.summary is not None]
    unit_heading = doc.styles["Heading 2"].style_id
    for number, (u, blobs) in enumerate(zip(reported, shrunk(reported), strict=True), start=1):
        body.paragraph(f"{number}. {clean(u.name)}", unit_heading)
        for line in clean(u.summary).split("\n"):
            body.paragraph(line)
        if u.attachments:
            names = "；".join(clean(a["name"]) for a in u.attachments)
            body.paragraph(f"附件：{names}")
        for blob in blobs:
            _picture(pictures, blob)

    doc.add_heading("附：未报送单位及所受提醒", level=1)
    _table(
        doc,
        ["单位", "提醒与督办"],
        [
            [
                clean(u.name),
                "；".join(f"{label}（{month_day(local(at, tz))}）" for label, at in u.messages)
                or "无",
            ]
            for u in report.missing
        ]
        or [["无", ""]],
    )
    path = out_dir / f"{report.slug}-report.docx"
    with open_private(path) as handle:
        doc.save(handle)
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


def _picture(pictures: _Pictures, blob: bytes) -> None:
    try:
        pictures.add(blob, Cm(PICTURE_WIDTH_CM))
    except Exception:  # one Pillow reads but python-docx does not: listed, not embedded
        return


class _Body:
    """Adds paragraphs to the end of the document at a constant cost each. python-docx finds
    where a paragraph goes (before the body's closing section properties) by scanning the
    whole body every time: quadratic, ~3 s of a report of 2,000 units."""

    def __init__(self, doc: Any) -> None:
        self._doc = doc
        self._end = doc.element.body.sectPr  # found once; it stays the body's last element

    def paragraph(self, text: str = "", style_id: str | None = None) -> Paragraph:
        if self._end is None:
            paragraph = self._doc.add_paragraph()
        else:
            element = OxmlElement("w:p")
            self._end.addprevious(element)
            paragraph = Paragraph(element, self._doc)
        if style_id:
            # What `add_paragraph(text, style)` does, without its lookup of the style by name,
            # which reads every style and every relationship of the document (~2 ms) each time.
            paragraph._p.get_or_add_pPr().style = style_id
        if text:
            paragraph.add_run(text)
        return paragraph


class _Pictures:
    """Adds pictures to one document at a constant cost each, as `Document.add_picture` would
    (one paragraph each, identical pictures stored once). python-docx's own way re-hashes every
    picture already in the document and scans lists for free names and ids on each call:
    quadratic, 63 s to add 1,000 pictures of 150 KB (0.6 s here)."""

    def __init__(self, doc: Any, body: _Body) -> None:
        self._body = body
        self._part = doc.part
        self._images = self._part.package.image_parts
        self._by_sha1: dict[str, str] = {}  # an image's SHA-1 -> its relationship id
        taken = [p.partname.idx or 0 for p in self._images]
        self._numbers = itertools.count(max(taken, default=0) + 1)
        self._shape_ids = itertools.count(self._part.next_id)
        self._rids = (f"rId{n}" for n in itertools.count(1) if f"rId{n}" not in self._part.rels)

    def add(self, blob: bytes, width: Length) -> None:
        image = DocxImage.from_blob(blob)
        rid = self._by_sha1.get(image.sha1)
        if rid is None:
            name = PackURI(f"/word/media/image{next(self._numbers)}.{image.ext}")
            part = ImagePart.from_image(image, name)
            self._images.append(part)
            rid = self._part.rels.add_relationship(RT.IMAGE, part, next(self._rids)).rId
            self._by_sha1[image.sha1] = rid
        cx, cy = image.scaled_dimensions(width, None)
        inline = CT_Inline.new_pic_inline(next(self._shape_ids), rid, image.filename, cx, cy)
        self._body.paragraph().add_run()._r.add_drawing(inline)
