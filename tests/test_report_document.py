"""The demo campaign's final report as the lead office files it: the Word document opened with
python-docx and checked as a clerk checks a 公文 (GB/T 9704-2012), its figures against the
database, the same figures in the HTML page, the CSV and the mail, the chart, and page 1 as
LibreOffice renders it."""

from __future__ import annotations

import csv
import io
import re
import shutil
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from PIL import Image

from tests.helpers import duban

pytestmark = pytest.mark.prefect

SLUG = "datian-quality-month-2021"
CAMPAIGN_FILE = Path(__file__).resolve().parent.parent / "config/examples/datian-2021.yaml"


@dataclass(frozen=True)
class Demo:
    folder: Path
    docx: Path
    html: Path
    csv: Path
    mail: EmailMessage

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.folder / "duban.db")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("report") / "demo"
    run = duban("demo", "--dir", str(folder))
    assert run.returncode == 0, run.stderr
    reports = folder / "reports" / SLUG
    (mail_file,) = (folder / "outbox" / SLUG).glob("report-*.eml")
    mail = BytesParser(policy=default_policy).parsebytes(mail_file.read_bytes())
    assert isinstance(mail, EmailMessage)
    return Demo(
        folder,
        reports / f"{SLUG}-report.docx",
        reports / f"{SLUG}-report.html",
        reports / f"{SLUG}-statistics.csv",
        mail,
    )


def database_figures(db: sqlite3.Connection) -> dict[str, int]:
    """The figures a leader quotes, counted straight from the tables."""
    rungs: Counter[tuple[str, str]] = Counter()
    for kind, recipient in db.execute(
        "SELECT kind, recipient FROM notification WHERE state = 'sent' AND kind LIKE '%@%'"
    ):
        rungs[kind.split("@")[0], recipient] += 1
    to_units = [(k, r) for k, r in rungs if r in ("department", "head")]
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "参加单位（个）": one("SELECT count(*) FROM assignment"),
        "按时报送（个）": one(
            "SELECT count(*) FROM assignment WHERE first_submitted_at IS NOT NULL AND NOT late"
        ),
        "逾期报送（个）": one("SELECT count(*) FROM assignment WHERE late"),
        "未报送（个）": one("SELECT count(*) FROM assignment WHERE first_submitted_at IS NULL"),
        "退回修改后重报（个）": one(
            "SELECT count(DISTINCT r.assignment_id) FROM submission r JOIN submission later"
            " ON later.assignment_id = r.assignment_id AND later.version > r.version"
            " WHERE r.review = 'returned'"
        ),
        "向单位发出提醒、催办（次）": sum(
            rungs[k] for k in to_units if k[0] in ("reminder", "urgent")
        ),
        "向单位发出督办（次）": sum(
            rungs[k] for k in to_units if k[0] in ("overdue", "escalation")
        ),
        "逾期未报抄送本办（次）": sum(n for (_, r), n in rungs.items() if r == "coordinator"),
        "向领导小组报告（次）": sum(n for (_, r), n in rungs.items() if r == "leaders"),
    }


def test_the_word_report_is_laid_out_as_a_gbt_9704_document(demo: Demo) -> None:
    doc = Document(str(demo.docx))

    def mm(length: int | None) -> float:
        return round((length or 0) / Mm(1), 1)  # Word stores twentieths of a point

    for section in doc.sections:
        assert (mm(section.page_width), mm(section.page_height)) == (210, 297)  # A4
        assert (mm(section.top_margin), mm(section.bottom_margin)) == (37, 35)
        assert (mm(section.left_margin), mm(section.right_margin)) == (28, 26)

    def east_asian(style_name: str) -> str:
        fonts = doc.styles[style_name].element.rPr.rFonts
        # No theme attribute anywhere: Word would prefer it to the named font.
        assert not [a for a in fonts.attrib if "Theme" in a], fonts.attrib
        return str(fonts.get(qn("w:eastAsia")))

    paragraphs = doc.paragraphs
    title = paragraphs[0]
    assert title.text == "大田县2021年“质量月”活动总结报告"
    assert title.style.name == "Title" and east_asian("Title") == "方正小标宋简体"
    assert doc.styles["Title"].font.size == Pt(22)  # 二号
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER or (
        title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    )
    body = doc.styles["Normal"]
    assert east_asian("Normal") == "仿宋_GB2312" and body.font.size == Pt(16)  # 三号
    assert body.paragraph_format.first_line_indent == Pt(32)  # two characters
    assert body.paragraph_format.line_spacing == Pt(28.95)  # 22 lines in 225 mm
    for name, font in (("Heading 1", "黑体"), ("Heading 2", "楷体_GB2312")):
        style = doc.styles[name]
        assert east_asian(name) == font and style.font.size == Pt(16)
        assert style.font.bold is False
    styles_xml = doc.styles.element.xml
    assert "Theme=" not in styles_xml.replace("themeFontLang", "")
    assert 'w:eastAsia="zh-CN"' in styles_xml  # the document's language
    level_1 = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert level_1[:2] == ["一、总体情况", "二、各单位开展情况"]
    assert not [p for p in paragraphs if re.search(r"\d{1,2}:\d{2}", p.text)]  # no clock times

    # Page numbers: a PAGE field between em dashes, odd pages right and even pages left.
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer, side in ((section.footer, "RIGHT"), (section.even_page_footer, "LEFT")):
        (number,) = footer.paragraphs
        xml = number._p.xml
        assert 'w:fldCharType="begin"' in xml and "PAGE" in xml
        assert number.text.startswith("— ") and number.text.endswith(" —")
        assert number.alignment == getattr(WD_ALIGN_PARAGRAPH, side)
        assert {r.font.size for r in number.runs} == {Pt(14)}  # 四号
        assert {r._r.rPr.rFonts.get(qn("w:eastAsia")) for r in number.runs} == {"宋体"}

    # The issuing office and the 成文日期 at the end of the text, right-aligned.
    texts = [p.text for p in paragraphs]
    last_day = "2021年10月11日"  # the report time of the demo (its final monitor pass)
    at = texts.index(last_day)
    assert texts[at - 1] == "大田县质量强县工作领导小组办公室"
    assert paragraphs[at].alignment == paragraphs[at - 1].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert texts.index("附件1") > at  # the appended tables come after it


def test_the_units_come_in_the_notices_order_with_their_headlines(demo: Demo) -> None:
    doc = Document(str(demo.docx))
    listed = [d["name"] for d in yaml.safe_load(CAMPAIGN_FILE.read_text("utf-8"))["departments"]]
    with demo.db() as db:
        summaries = dict(
            db.execute(
                "SELECT d.name, s.summary FROM submission s"
                " JOIN assignment a ON a.id = s.assignment_id"
                " JOIN department d ON d.id = a.department_id WHERE s.review = 'accepted'"
            ).fetchall()
        )
        late = dict(
            db.execute(
                "SELECT d.name, a.late FROM assignment a"
                " JOIN department d ON d.id = a.department_id"
            ).fetchall()
        )
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    pattern = re.compile(r"（([一二三四五六七八九十]+)）([^：]+)：(.+?)(（逾期(\d+)天报送）)?$")
    found = [pattern.match(h) for h in headings]
    assert all(found), headings
    names = [m.group(2) for m in found if m]
    assert names == [n for n in listed if n in summaries]  # every accepted unit, in order
    assert len(names) == len(summaries)
    for m in found:
        assert m is not None
        name, headline = m.group(2), m.group(3)
        summary = summaries[name].removeprefix(name).lstrip("，：")
        assert summary.startswith(headline.rstrip("…")) and len(headline) <= 31
        assert bool(m.group(4)) == bool(late[name])  # late units marked, with their days
    units_table = doc.tables[1]
    assert [c.text for c in units_table.rows[0].cells] == [
        "序号",
        "单位",
        "状态",
        "报送时间",
        "逾期天数",
    ]
    assert [r.cells[1].text for r in units_table.rows[1:]] == listed
    assert units_table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated
    widths = [c.width for c in units_table.rows[1].cells]
    assert widths[1] > 2 * widths[0] and sum(widths) <= Mm(156)
    dates = [r.cells[3].text for r in units_table.rows[1:]]
    assert all(re.fullmatch(r"\d{1,2}月\d{1,2}日|未报送", d) for d in dates), dates
    for row in units_table.rows[1:]:
        assert row.cells[3]._tc.tcPr.find(qn("w:noWrap")) is not None  # a date on one line
    assert "fgj" not in "".join(c.text for r in units_table.rows for c in r.cells)


def test_every_figure_agrees_with_the_database_in_word_html_csv_and_mail(demo: Demo) -> None:
    with demo.db() as db:
        expected = database_figures(db)
    assert expected["向单位发出督办（次）"] > 0 and expected["逾期未报抄送本办（次）"] > 0

    doc = Document(str(demo.docx))
    word = {r.cells[0].text: int(r.cells[1].text) for r in doc.tables[0].rows[1:]}
    assert word == expected

    class Tables(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.table: str | None = None
            self.rows: dict[str, list[list[str]]] = {}
            self.overview = ""
            self._in_overview = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "table":
                self.table = dict(attrs).get("id")
                self.rows[self.table or ""] = []
            elif tag == "tr" and self.table:
                self.rows[self.table].append([])
            elif tag in ("td", "th") and self.table:
                self.rows[self.table][-1].append("")
            self._in_overview = tag == "p" and dict(attrs).get("id") == "overview"

        def handle_endtag(self, tag: str) -> None:
            if tag == "table":
                self.table = None
            self._in_overview = False

        def handle_data(self, data: str) -> None:
            if self.table and self.rows[self.table] and self.rows[self.table][-1]:
                self.rows[self.table][-1][-1] += data.strip()
            if self._in_overview:
                self.overview += data

    page = Tables()
    page.feed(demo.html.read_text("utf-8"))
    assert {k: int(v) for k, v in page.rows["figures"]} == expected

    rows = list(csv.DictReader(demo.csv.open(encoding="utf-8-sig")))
    statuses = Counter(r["状态"] for r in rows)
    assert len(rows) == expected["参加单位（个）"]
    assert sum(1 for r in rows if r["首次报送日期"] == "") == expected["未报送（个）"]
    late = [r for r in rows if r["首次报送日期"] and int(r["逾期天数"]) > 0]
    assert (
        len(late) == expected["逾期报送（个）"] == statuses["已验收"] - (expected["按时报送（个）"])
    )

    # One paragraph of prose, the same words in the Word text, the page and the mail.
    (prose,) = [p.text for p in doc.paragraphs if p.text.startswith("截至")]
    assert page.overview.strip() == prose
    body = demo.mail.get_body(preferencelist=("plain",))
    assert body is not None and prose in str(body.get_content())  # type: ignore[attr-defined]
    for label, n in expected.items():
        if label.startswith(("按时", "逾期报送", "未报送")):
            assert f"{label[:-3]}{n}个" in prose
    assert f"督办{expected['向单位发出督办（次）']}次" in prose
    assert f"抄送本办{expected['逾期未报抄送本办（次）']}次" in prose


def test_the_csv_sorts_by_iso_dates_and_counts_missing_units_overdue(demo: Demo) -> None:
    rows = list(csv.DictReader(demo.csv.open(encoding="utf-8-sig")))
    for r in rows:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["截止日期"])
        assert re.fullmatch(r"\d{2}:\d{2}", r["截止时间"])
        assert r["首次报送日期"] == "" or re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["首次报送日期"])
    (missing,) = [r for r in rows if not r["首次报送日期"]]
    # Never delivered: overdue from the deadline's day to the report's (30 Sep -> 11 Oct).
    assert int(missing["逾期天数"]) == 11
    assert missing["标题"] == "" and missing["总结字数"] == ""
    delivered = [r for r in rows if r["首次报送日期"]]
    assert all(r["标题"] and int(r["总结字数"]) > len(r["标题"]) for r in delivered)
    assert sorted(r["首次报送日期"] for r in delivered)[-1] == "2021-10-09"


def test_the_chart_has_dates_counts_a_deadline_and_a_legend(demo: Demo) -> None:
    import zipfile

    with zipfile.ZipFile(demo.docx) as package:
        (chart,) = [
            package.read(n) for n in package.namelist() if n.startswith("word/media/image1.")
        ]
    image = Image.open(io.BytesIO(chart))
    words = str(image.info.get("Description", ""))
    assert "报送截止（9月30日）" in words and "按时报送" in words and "逾期报送" in words
    assert "9月17日" in words and "10月3日" in words  # the month written where it changes
    pixels = image.convert("RGB")
    colours = Counter(pixels.getdata())
    on_time, late = (0x2F, 0x5F, 0x8F), (0xC0, 0x39, 0x2B)
    assert colours[on_time] > 0 and colours[late] > 0  # late submissions in a second colour
    # The strip under the bars holds the date labels: dark text pixels, not a bare axis.
    width, height = image.size
    strip = pixels.crop((0, int(height * 0.9), width, height))
    dark_columns = {
        x for x in range(width) for y in range(strip.height) if sum(strip.getpixel((x, y))) < 200
    }
    assert len(dark_columns) > width // 10
    page = demo.html.read_text("utf-8")
    assert "<svg" in page and "报送截止（9月30日）" in page  # the same drawing, as SVG


def test_page_one_renders_in_libreoffice_as_an_a4_page(demo: Demo, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        pytest.skip(
            "LibreOffice (Debian: libreoffice-writer-nogui) or pdftoppm (poppler-utils) is "
            "not installed; tests/run installs them"
        )
    profile = tmp_path / "profile"  # its own profile: no lock shared with another soffice
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(demo.docx),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdf = tmp_path / f"{SLUG}-report.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info.stdout), info.stdout
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "50", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    (png,) = tmp_path.glob("p*.png")
    page = Image.open(png).convert("L")
    # The title is centred on the page: ink in its band spreads evenly around the middle.
    width, height = page.size
    band = page.crop((0, int(height * 0.10), width, int(height * 0.20)))
    ink = [x for x in range(width) for y in range(band.height) if band.getpixel((x, y)) < 128]
    assert ink and abs((min(ink) + max(ink)) / 2 - width * (28 + (210 - 28 - 26) / 2) / 210) < 12
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    assert "活动总结报告" in text and "一、总体情况" in text
    assert re.search(r"—\s*1\s*—", text)  # the page number, as 「— 1 —」
