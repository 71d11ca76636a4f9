"""The report as a Word document, the format government offices exchange: 公文 fonts (方正小标宋
for the title, 黑体 for headings, 仿宋 for the text), the figures and the units as tables,
the progress chart and the units' pictures embedded."""

from __future__ import annotations

import io
import itertools
import math
import os
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date
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
from PIL import Image, ImageOps

from config.clock import format_local, local
from tasks import attachments
from tasks.rendering import STATUS_LABELS, format_deadline, period_text
from tasks.report import Report, ReportUnit

TITLE_FONT, HEADING_FONT, BODY_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312"
EMBEDDED = ("jpg", "jpeg", "png", "gif", "bmp")  # what Word shows and python-docx reads
PICTURE_WIDTH_CM = 12
# A picture is printed 12 cm wide: 1200 px on its long side is ~250 dpi there, as sharp as an
# office printer prints. A phone photo has 3-4 times that, which only makes the file unmailable.
MAX_SIDE_PX = 1200
# A JPEG decodes straight at 1/2, 1/4 or 1/8 of its size, several times faster than decoding
# it whole and resizing. A scale that still leaves 3/4 of the cap (~190 dpi printed) is used
# as it comes: a 4000x3000 photo becomes 1000x750 without a resize.
DRAFT_SHARE = 0.75
JPEG_QUALITY = 82  # no visible loss at print size; a 1000x750 photo comes to 50-150 KB
# Below this a picture within MAX_SIDE_PX goes in untouched, and a re-encoded chart or
# screenshot stays a (sharp) PNG; above it a photo is worth the JPEG.
SMALL_BYTES = 512 * 1024
AS_IS_FORMATS = ("JPEG", "MPO", "PNG", "GIF")  # compressed already (MPO: a phone's JPEG)
LOSSLESS_FORMATS = ("PNG", "GIF", "BMP")  # likely a chart or a screenshot rather than a photo
ORIENTATION = 0x0112  # the EXIF tag
# Threads shrinking pictures: the work is in C, so each keeps a CPU busy. Each holds one
# decoded picture at a time: a few MB for a photo, which decodes at a fraction of its size.
PICTURE_WORKERS = min(4, os.cpu_count() or 1)
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
    for number, (u, blobs) in enumerate(zip(reported, _shrunk(reported), strict=True), start=1):
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


def _shrunk(units: list[ReportUnit]) -> list[list[bytes]]:
    """Each unit's pictures, ready to embed, made by PICTURE_WORKERS threads at once (Pillow
    lets go of the GIL while it decodes and encodes). All before the document is written, not
    alongside it: python-docx's XML calls let go of the GIL too, and then waited for a picture
    thread to hand it back, which cost more than the threads saved."""
    with ThreadPoolExecutor(PICTURE_WORKERS, thread_name_prefix="report-pictures") as pool:
        return list(pool.map(_unit_pictures, [u.attachments for u in units]))


def _unit_pictures(files: list[dict[str, Any]]) -> list[bytes]:
    """What to embed of one unit's attachments: its pictures, ready for the document."""
    blobs = []
    for attachment in files:
        if attachment["name"].rsplit(".", 1)[-1].lower() not in EMBEDDED:
            continue
        try:
            blobs.append(embeddable(attachments.path_of(attachment["relpath"])))
        except Exception:  # a damaged or unreadable picture stays listed, not embedded
            continue
    return blobs


def _picture(pictures: _Pictures, blob: bytes) -> None:
    try:
        pictures.add(blob, Cm(PICTURE_WIDTH_CM))
    except Exception:  # one Pillow reads but python-docx does not: listed, not embedded
        return


def embeddable(path: Path, max_side: int = MAX_SIDE_PX) -> bytes:
    """The bytes to embed for the picture at `path`: the file itself when it is small and
    upright already, else a copy at most `max_side` on its long side, re-encoded in memory.
    The file on disk is only read. Raises (OSError, ValueError, ...) for a damaged picture."""
    with Image.open(path) as image:
        # Phones store a portrait photo as landscape pixels plus an EXIF "turn me" flag, which
        # Word ignores; such a photo is turned here, whatever its size.
        upright = image.getexif().get(ORIENTATION, 1) == 1
        small = max(image.size) <= max_side and path.stat().st_size <= SMALL_BYTES
        if small and upright and image.format in AS_IS_FORMATS:
            return path.read_bytes()
        lossless = image.format in LOSSLESS_FORMATS
        ratio = max_side * DRAFT_SHARE / max(image.size)
        image.draft(None, (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
        if max(image.size) > max_side:
            image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
        picture = ImageOps.exif_transpose(image)
        icc = image.info.get("icc_profile")
    return _encode(picture, lossless, icc)


def _encode(image: Image.Image, lossless: bool, icc: bytes | None) -> bytes:
    """PNG for a picture with transparency (JPEG has none) and for a chart or screenshot that
    stays small as PNG (JPEG blurs its lines and text); JPEG for everything else. No EXIF is
    written: the pixels are upright now, so an orientation flag would turn them twice."""
    out = io.BytesIO()
    if image.has_transparency_data or lossless:
        png = image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGBA")
        png.save(out, "PNG", icc_profile=icc)
        if image.has_transparency_data or out.tell() <= SMALL_BYTES:
            return out.getvalue()
        out = io.BytesIO()
    jpeg = image if image.mode in ("L", "RGB") else image.convert("RGB")
    # CMYK and other profiles describe the old pixels, not the converted ones.
    jpeg.save(out, "JPEG", quality=JPEG_QUALITY, icc_profile=icc if jpeg is image else None)
    return out.getvalue()


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
