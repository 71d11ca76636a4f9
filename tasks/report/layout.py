"""The Word document's page and type as GB/T 9704-2012 (党政机关公文格式) sets them: A4 with
its margins, 22 lines of 28 characters, 方正小标宋简体 二号 title, 仿宋_GB2312 三号 text, 黑体 and
楷体_GB2312 headings (not bold), page numbers 「— 1 —」 in 宋体 四号 at the outside edges, the
language zh-CN. The report's content (`tasks.report.docx`) only names the styles set here."""

from __future__ import annotations

from typing import Any

from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

TITLE_FONT, HEI, KAI = "方正小标宋简体", "黑体", "楷体_GB2312"
FANGSONG, SONG = "仿宋_GB2312", "宋体"
LATIN_FONT = "Times New Roman"  # figures and Latin letters in the text, as offices set them
# 二号, 三号, 四号 and 小四 in points.
TITLE_SIZE, TEXT_SIZE, PAGE_NUMBER_SIZE, TABLE_SIZE = Pt(22), Pt(16), Pt(14), Pt(12)
# 22 lines in the 225 mm between the margins: 28.95 pt each, as Word's 公文 templates give it.
LINE = Pt(28.95)
TABLE_LINE = Pt(20)
CHAR = TEXT_SIZE  # one character of the text, for indents
TEXT_WIDTH = Mm(210 - 28 - 26)

# Styles the content names. Built-in names keep Word's outline and navigation pane working;
# the others are the document's own, named in Chinese as its readers see them in Word.
TITLE, HEADING_1, HEADING_2, BODY = "Title", "Heading 1", "Heading 2", "Normal"
TABLE_TEXT, PICTURE, CAPTION, CLOSING = "表格文字", "图片", "图题", "落款"


def set_up(doc: Any) -> None:
    """The page, the styles and the page numbers of a new document."""
    _page(doc.sections[0])
    _language(doc)
    _style(doc, BODY, FANGSONG, TEXT_SIZE, first_line=True)
    _style(doc, TITLE, TITLE_FONT, TITLE_SIZE, centred=True)
    _style(doc, HEADING_1, HEI, TEXT_SIZE, first_line=True)
    _style(doc, HEADING_2, KAI, TEXT_SIZE, first_line=True)
    _style(doc, TABLE_TEXT, FANGSONG, TABLE_SIZE, centred=True, line=TABLE_LINE)
    _style(doc, PICTURE, FANGSONG, TEXT_SIZE, centred=True, line=None)
    _style(doc, CAPTION, KAI, Pt(14), centred=True)
    _style(doc, CLOSING, FANGSONG, TEXT_SIZE)
    _strip_theme_fonts(doc)
    _page_numbers(doc)


def new_page_section(doc: Any) -> Any:
    """A section on a new page (the 附件), with the same page and page numbers."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _page(section)
    return section


def _page(section: Any) -> None:
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # The page number's line sits 7 mm under the text's last line.
    section.footer_distance = Mm(35 - 7) - PAGE_NUMBER_SIZE
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    # 22 lines at LINE apart. The lines only: a character grid too (`linesAndChars`) is read
    # by LibreOffice as half-width cells and spreads Chinese text to half as many a line.
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE.pt * 20)))


def _style(
    doc: Any,
    name: str,
    east_asian: str,
    size: Any,
    *,
    centred: bool = False,
    first_line: bool = False,
    line: Any = LINE,
) -> None:
    styles = doc.styles
    style = styles[name] if name in styles else styles.add_style(name, 1)  # 1: paragraph
    if name not in (BODY, TITLE) and style.base_style is None:
        style.base_style = styles[BODY]
    font = style.font
    font.size, font.bold, font.italic = size, False, False
    font.color.rgb = RGBColor(0, 0, 0)
    font.name = LATIN_FONT
    r_pr = style.element.get_or_add_rPr()
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)
    if name == BODY:
        # 28 characters of 三号 a line: 16 pt each would make 448 pt, the text is 442 pt wide;
        # each is set a quarter point closer (in twentieths of a point).
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(round((TEXT_WIDTH.pt / 28 - TEXT_SIZE.pt) * 20) - 1))
        r_pr.append(spacing)
    fmt = style.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = 2 * CHAR if first_line else 0
    fmt.left_indent = fmt.right_indent = 0
    fmt.space_before = fmt.space_after = 0
    if line is None:  # a picture's line is as tall as the picture
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, line
    borders = style.element.pPr.find(qn("w:pBdr")) if style.element.pPr is not None else None
    if borders is not None:  # python-docx's Title has a rule under it; a 公文 title has none
        borders.getparent().remove(borders)


def _strip_theme_fonts(doc: Any) -> None:
    """Theme attributes (`w:asciiTheme`, `w:eastAsiaTheme`, `w:themeColor`…) win over the
    fonts and colours named beside them: Word would set the headings in the theme's font (MS
    Gothic, for the template's ja-JP theme language). Removed from every style and default."""
    root = doc.styles.element
    for element in root.iter(qn("w:rFonts"), qn("w:color")):
        for attribute in list(element.attrib):
            if "theme" in attribute.lower():
                del element.attrib[attribute]
    defaults = root.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.get_or_add_rFonts()
    for key, value in (("ascii", LATIN_FONT), ("hAnsi", LATIN_FONT), ("eastAsia", FANGSONG)):
        fonts.set(qn(f"w:{key}"), value)
    defaults.get_or_add_sz().val = TEXT_SIZE


def _language(doc: Any) -> None:
    """zh-CN for the text and the theme: Word picks Chinese fonts and line breaking by it."""
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    r_pr = defaults.find(qn("w:rPr"))
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    for key in ("w:val", "w:eastAsia"):
        lang.set(qn(key), "zh-CN")
    settings = doc.settings.element
    theme_lang = settings.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), "zh-CN")
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


def _page_numbers(doc: Any) -> None:
    """「— 1 —」 at the foot: odd pages right, even pages left, one character in from the edge
    (the outside edge of a page printed on both sides)."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, side in ((section.footer, "right"), (section.even_page_footer, "left")):
        paragraph = footer.paragraphs[0]
        fmt = paragraph.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.RIGHT if side == "right" else WD_ALIGN_PARAGRAPH.LEFT
        fmt.first_line_indent = 0
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if side == "right":
            fmt.right_indent = PAGE_NUMBER_SIZE
        else:
            fmt.left_indent = PAGE_NUMBER_SIZE
        _page_run(paragraph, "— ")
        _field(paragraph, "PAGE")
        _page_run(paragraph, " —")


def _page_run(paragraph: Any, text: str) -> Any:
    run = paragraph.add_run(text)
    run.font.size = PAGE_NUMBER_SIZE
    run.font.name = SONG
    run._r.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), SONG)
    return run


def _field(paragraph: Any, code: str) -> None:
    """A field Word and LibreOffice compute as they lay out each page: begin, its code,
    separate, the value shown until then, end."""
    for kind, instruction, shown in (
        ("begin", None, None),
        (None, f" {code} ", None),
        ("separate", None, None),
        (None, None, "1"),
        ("end", None, None),
    ):
        run = _page_run(paragraph, shown or "")
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        if instruction:
            text = OxmlElement("w:instrText")
            text.set(qn("xml:space"), "preserve")
            text.text = instruction
            run._r.append(text)


def table(doc: Any, widths_mm: list[int], header: list[str]) -> Any:
    """A table at fixed column widths (set for what each holds, adding up to the text's
    width), its header row repeated on every page it runs over."""
    assert sum(widths_mm) <= round(TEXT_WIDTH.mm)
    grid = doc.add_table(rows=1, cols=len(widths_mm))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for column, width in zip(grid.columns, widths_mm, strict=True):
        column.width = Mm(width)
    head = grid.rows[0]
    head._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text in zip(head.cells, header, strict=True):
        cell.paragraphs[0].style = doc.styles[TABLE_TEXT]
        run = cell.paragraphs[0].add_run(text)
        run._r.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), HEI)
    return grid


def add_row(grid: Any, widths_mm: list[int], values: list[object], wrap: list[bool]) -> None:
    """A row; a cell whose `wrap` is False keeps its text on one line (a date, a number)."""
    cells = grid.add_row().cells
    for cell, width, value, may_wrap in zip(cells, widths_mm, values, wrap, strict=True):
        cell.width = Mm(width)
        paragraph = cell.paragraphs[0]
        paragraph.style = grid.part.document.styles[TABLE_TEXT]
        paragraph.add_run(str(value))
        if may_wrap:  # a name or a list reads from the left
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
        else:
            cell._tc.get_or_add_tcPr().append(OxmlElement("w:noWrap"))
