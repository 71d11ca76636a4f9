"""The report as a Word document an office files and forwards: laid out as GB/T 9704-2012
sets a 公文 (`tasks.report.layout`), written as a roundup (seed 001: each unit's section
「单位：headline」 and what it did), with the figures, the progress chart, the units' pictures
and two appended tables (附件1 报送情况一览表, 附件2 未报送单位及督办情况)."""

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
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Cm, Length
from docx.text.paragraph import Paragraph

from config.clock import local, month_day
from config.private_files import open_private, private_folder
from tasks.messages.labels import STATUS_LABELS
from tasks.report import layout as L
from tasks.report import wording
from tasks.report.chart import progress_png
from tasks.report.facts import Report
from tasks.report.pictures import shrunk

PICTURE_WIDTH_CM = 12
CHART_WIDTH_CM = 15.6  # the text's width
# XML 1.0 cannot carry these; a department's pasted text sometimes does.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The appended tables' columns in mm, each set for what it holds, together the text's width.
UNITS_COLUMNS = [14, 60, 28, 28, 26]  # 序号, 单位, 状态, 报送时间 (「9月28日」), 逾期天数
MISSING_COLUMNS = [14, 50, 26, 66]  # 序号, 单位, 逾期天数, 提醒与督办
FIGURES_COLUMNS = [100, 40]


def clean(text: str | None) -> str:
    return _NOT_IN_XML.sub("", text or "")


def write_docx(report: Report, out_dir: Path) -> Path:
    private_folder(out_dir)
    doc = Document()
    L.set_up(doc)
    body = _Body(doc)
    pictures = _Pictures(doc, body)
    body.paragraph(clean(wording.title(report)), L.TITLE)
    if not report.final:
        body.paragraph(wording.as_of(report), L.CAPTION)
    body.paragraph()
    body.paragraph(clean(wording.opening(report)))

    body.paragraph("一、总体情况", L.HEADING_1)
    body.paragraph(clean(wording.overview(report)))
    figure = 1
    chart = progress_png(report)
    if chart:
        pictures.add(chart, Cm(CHART_WIDTH_CM))
        body.paragraph(f"图{figure}　每日报送单位数", L.CAPTION)
    _figures_table(doc, body, report)

    body.paragraph("二、各单位开展情况", L.HEADING_1)
    reported = [u for u in report.units if u.summary is not None]
    for number, (u, blobs) in enumerate(zip(reported, shrunk(reported), strict=True), start=1):
        body.paragraph(clean(wording.unit_heading(number, u)), L.HEADING_2)
        for line in clean(u.summary).split("\n"):
            if line.strip():
                body.paragraph(line.strip())
        embedded = set()
        for name, blob in blobs:
            if _picture(pictures, blob):
                embedded.add(name)
                figure += 1
                body.paragraph(f"图{figure}　{clean(u.name)}：{clean(_stem(name))}", L.CAPTION)
        # Documents and videos, and pictures that could not be embedded: named.
        others = [clean(a["name"]) for a in u.attachments if a["name"] not in embedded]
        if others:
            body.paragraph(f"报送材料：{'、'.join(others)}")
    unreported = [u for u in report.units if u.summary is None]
    if unreported:
        names = "、".join(clean(u.name) for u in unreported)
        body.paragraph(f"{names}的活动总结未报送或尚未审核通过，报送及督办情况见附件。")

    for heading, lines in wording.closing_sections(report):
        body.paragraph(clean(heading), L.HEADING_1)
        for line in lines:
            body.paragraph(clean(line))

    _enclosures(body)
    _closing(body, report)
    _units_table(doc, body, report)
    _missing_table(doc, body, report)
    path = out_dir / f"{report.slug}-report.docx"
    with open_private(path) as handle:
        doc.save(handle)
    return path


def _figures_table(doc: Any, body: _Body, report: Report) -> None:
    grid = _table(doc, body, FIGURES_COLUMNS, ["项目", "数量"])
    for label, value in wording.figure_rows(report):
        L.add_row(grid, FIGURES_COLUMNS, [label, value], [True, False])


def _enclosures(body: _Body) -> None:
    """The 附件说明 after the text: 「附件：1.报送情况一览表」, the second one under the first."""
    body.paragraph()
    body.paragraph("附件：1.报送情况一览表")
    second = body.paragraph("2.未报送单位及督办情况")
    second.paragraph_format.first_line_indent = 5 * L.CHAR  # under 「1.」


def _closing(body: _Body, report: Report) -> None:
    """The office's name and the 成文日期, right-aligned: the date four characters in from
    the right, the name centred over it (as GB/T 9704 places a signature without a seal)."""
    date = wording.dated(report)
    office = clean(report.office)
    body.paragraph()
    body.paragraph()
    if office:
        name = body.paragraph(office, L.CLOSING)
        name.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        offset = max(0.0, 4 + (len(date) - len(office)) / 2)
        name.paragraph_format.right_indent = int(offset * L.CHAR)
    dated = body.paragraph(date, L.CLOSING)
    dated.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    dated.paragraph_format.right_indent = 4 * L.CHAR


def _appendix(body: _Body, number: int, heading: str) -> None:
    """「附件1」 in 黑体 at the top left of a new page, then the table's title."""
    label = body.paragraph(f"附件{number}", L.HEADING_1)
    label.paragraph_format.first_line_indent = 0
    label.paragraph_format.page_break_before = True
    body.paragraph(heading, L.TITLE)
    body.paragraph()


def _units_table(doc: Any, body: _Body, report: Report) -> None:
    _appendix(body, 1, "报送情况一览表")
    grid = _table(doc, body, UNITS_COLUMNS, ["序号", "单位", "状态", "报送时间", "逾期天数"])
    wrap = [False, True, False, False, False]
    for number, u in enumerate(report.units, start=1):
        when = month_day(local(u.submitted_at, report.timezone)) if u.submitted_at else "未报送"
        status = STATUS_LABELS[u.status]
        L.add_row(
            grid, UNITS_COLUMNS, [number, clean(u.name), status, when, u.days_late or ""], wrap
        )


def _missing_table(doc: Any, body: _Body, report: Report) -> None:
    _appendix(body, 2, "未报送单位及督办情况")
    grid = _table(doc, body, MISSING_COLUMNS, ["序号", "单位", "逾期天数", "提醒与督办"])
    wrap = [False, True, False, True]
    for number, u in enumerate(report.missing, start=1):
        sent = wording.messages_text(u, report.timezone) or "无"
        L.add_row(grid, MISSING_COLUMNS, [number, clean(u.name), u.days_late or "", sent], wrap)
    if not report.missing:
        L.add_row(grid, MISSING_COLUMNS, ["", "无", "", ""], wrap)


def _table(doc: Any, body: _Body, widths: list[int], header: list[str]) -> Any:
    """A table placed where the body has got to (python-docx adds it at the end)."""
    grid = L.table(doc, widths, header)
    body.place(grid._tbl)
    return grid


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def _picture(pictures: _Pictures, blob: bytes) -> bool:
    try:
        pictures.add(blob, Cm(PICTURE_WIDTH_CM))
    except Exception:  # one Pillow reads but python-docx does not: listed, not embedded
        return False
    return True


class _Body:
    """Adds paragraphs to the end of the document at a constant cost each. python-docx finds
    where a paragraph goes (before the body's closing section properties) by scanning the
    whole body every time: quadratic, ~3 s of a report of 2,000 units."""

    def __init__(self, doc: Any) -> None:
        self._doc = doc
        self._end = doc.element.body.sectPr  # found once; it stays the body's last element
        self._ids = {s.name: s.style_id for s in doc.styles}  # a style's name -> its id

    def paragraph(self, text: str = "", style: str | None = None) -> Paragraph:
        if self._end is None:
            paragraph = self._doc.add_paragraph()
        else:
            element = OxmlElement("w:p")
            self._end.addprevious(element)
            paragraph = Paragraph(element, self._doc)
        if style and style != L.BODY:
            # What `add_paragraph(text, style)` does, without its lookup of the style by name,
            # which reads every style and every relationship of the document (~2 ms) each time.
            paragraph._p.get_or_add_pPr().style = self._ids[style]
        if text:
            paragraph.add_run(text)
        return paragraph

    def place(self, element: Any) -> None:
        """Moves an element python-docx appended (a table) to where the body has got to."""
        if self._end is not None:
            self._end.addprevious(element)


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
        paragraph = self._body.paragraph(style=L.PICTURE)
        paragraph.paragraph_format.keep_with_next = True  # its caption stays under it
        paragraph.add_run()._r.add_drawing(inline)
