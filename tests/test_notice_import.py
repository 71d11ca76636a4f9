"""`duban import`: the seed notices read into drafts a coordinator reviews and launches."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.campaign.loader import load_campaign_file, parse_campaign
from config.notice.dates import find_dates
from config.notice.draft import render
from config.notice.extract import extract
from config.notice.text import from_text, read_notice
from config.notice.units import key
from tests.campaigns import DATIAN, LAUNCH_DAY, links_in
from tests.files import scanned_pdf_bytes, text_pdf_bytes
from tests.helpers import duban
from tests.receivers import SmtpReceiver

# The real notices, as copied from the web with their lost characters (the project's seeds).
NOTICES = Path(__file__).resolve().parent / "fixtures" / "notices"
DATIAN_NOTICE = NOTICES / "datian-2021-notice.txt"
NATIONAL_PLAN = NOTICES / "national-plan-traditional.txt"
TODAY = date(2026, 11, 22)


def _draft(path: Path) -> tuple[dict[str, Any], str]:
    notice = read_notice(path)
    text = render(extract(notice, TODAY), path.name, notice)
    return yaml.safe_load(text), text


def _marked(text: str, key_line: str) -> str | None:
    """The CHECK comment right above the line that starts with `key_line`, if any."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(key_line):
            above = lines[i - 1].strip() if i else ""
            return above.removeprefix("# CHECK:").strip() if above.startswith("# CHECK:") else None
    raise AssertionError(f"no line {key_line!r} in the draft")


@pytest.mark.pure
def test_the_county_notice_gives_every_addressed_unit_and_the_thirteen_units_duties() -> None:
    data, text = _draft(DATIAN_NOTICE)
    office = yaml.safe_load(DATIAN.read_text(encoding="utf-8"))  # written by hand from it

    # Every unit of the salutation, in its order; 各有关企业 is a group, not a unit.
    assert [d["name"] for d in data["departments"]] == [d["name"] for d in office["departments"]]
    assert "各有关企业" in text and "各有关企业" not in [d["name"] for d in data["departments"]]
    # The thirteen of 四、县直相关部门主要活动, each on its own unit, none on the others.
    has_duties = {d["name"]: len(d.get("duties", [])) for d in data["departments"]}
    by_hand = {d["name"]: len(d.get("duties", [])) for d in office["departments"]}
    assert {n for n, k in has_duties.items() if k} == {n for n, k in by_hand.items() if k}
    assert len([n for n, k in has_duties.items() if k]) == 13
    duties = {d["name"]: d.get("duties", []) for d in data["departments"]}
    assert duties["县公安局"] == [
        "围绕打击侵权假冒犯罪，紧密结合昆仑2021”专项行动，侦破一批大案要案，打掉一批犯罪团伙，"
        "斩断一批犯罪链条。"
    ]
    assert len(duties["县市场监管局"]) == 9 and duties["县市场监管局直属事业单位"] == []
    assert (
        duties["县卫健局"][0]
        == "组织学习宣贯《2021年国家医疗质量安全改进目标》，促进医疗质量提升。"
    )
    # 金融部门 is the People's Bank's county branch: matched, and marked for the coordinator.
    assert duties["人行大田县支行"][1] == "开展金融标准 为企利民主题活动。"
    assert "金融部门" in (_marked(text, "- code: rhzh") or "")

    assert data["theme"] == office["theme"] == "深入实施质量提升行动 大力推进质量强县建设"
    assert data["lead_office"] == office["lead_office"]
    assert data["title"] == office["title"] == "大田县2021年“质量月”活动"
    assert data["slug"] == office["slug"]
    assert data["common_duties"] == office["common_duties"][:5]
    # 「2021930日前」: the deadline recovered, and marked as recovered.
    assert data["due"] == date(2021, 9, 30)
    assert "2021930日" in (_marked(text, "due:") or "")
    asked = data["requirements"]
    assert (asked["summary"], asked["paper_copy"], asked["pictures"], asked["video"]) == (
        True,
        True,
        True,
        True,
    )
    assert "于2021年9月30日前" in asked["note"] and "2021930" not in asked["note"]
    # The notice has no number of its own: not invented, marked with the ones it cites.
    assert "document_number" not in data
    cited = _marked(text, "# document_number:") or ""
    for number in ("国市监质〔2021〕51号", "闽质强省办〔2021〕4号", "市强市办〔2021〕2号"):
        assert number in cited


@pytest.mark.pure
def test_the_national_plan_in_traditional_characters_gives_its_theme_and_requirements() -> None:
    data, text = _draft(NATIONAL_PLAN)
    assert "converted from traditional characters" in text
    assert data["title"] == "全国质量月活动"
    assert data["theme"] == "提升供给质量 建设质量强国"
    assert data["guidance"].startswith("全面贯彻落实党的xx大")
    assert data["common_duties"][0] == "开展质量品牌提升活动，改善产品和服务供给。"
    asked = data["requirements"]
    assert asked["pictures"] and asked["video"] and not asked["paper_copy"]
    # Converted character by character, never word by word (视讯 stays; it is no 视频).
    assert asked["note"].endswith("要将活动总结、有关图片及视讯及时报送质检总局。")
    # The plan addresses no unit by name and gives no year: nothing invented without a mark.
    assert data["departments"] == []
    assert _marked(text, "departments:")
    assert "placeholder" in (_marked(text, "due:") or "")
    assert "联合" in (_marked(text, "lead_office:") or "")


@pytest.mark.pure
def test_gbk_gb18030_utf16_word_and_traditional_copies_give_the_same_draft(tmp_path: Path) -> None:
    utf8 = DATIAN_NOTICE.read_text(encoding="utf-8")
    expected, _ = _draft(DATIAN_NOTICE)

    def names_duties_due(data: dict[str, Any]) -> tuple[Any, ...]:
        units = [(d["name"], len(d.get("duties", []))) for d in data["departments"]]
        return units, data["due"], data["theme"]

    for encoding in ("gbk", "gb18030", "utf-16"):
        copy = tmp_path / f"notice-{encoding}.txt"
        # GBK has no no-break space; an office's GBK file holds plain ones.
        copy.write_bytes(utf8.replace("\xa0", " ").encode(encoding))
        assert read_notice(copy).encoding in (encoding, "gb18030", "utf-16")
        data, _ = _draft(copy)
        assert data == expected, encoding

    from docx import Document

    document = Document()
    for line in utf8.splitlines():
        document.add_paragraph(line)
    word = tmp_path / "notice.docx"
    document.save(str(word))
    assert names_duties_due(_draft(word)[0]) == names_duties_due(expected)

    # Printed from Word to PDF: the text layer, read page by page, gives the same draft.
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(text_pdf_bytes([line for line in utf8.splitlines() if line.strip()]))
    assert read_notice(pdf).encoding == "pdf"
    assert names_duties_due(_draft(pdf)[0]) == names_duties_due(expected)

    from opencc import OpenCC

    traditional = tmp_path / "notice-traditional.txt"
    traditional.write_text(OpenCC("s2t").convert(utf8), encoding="utf-8")
    notice = read_notice(traditional)
    assert notice.traditional
    assert names_duties_due(_draft(traditional)[0]) == names_duties_due(expected)


@pytest.mark.pure
def test_a_notice_copied_with_its_web_page_gives_the_same_draft_and_says_what_was_dropped(
    tmp_path: Path,
) -> None:
    """Copied from a portal, a mirror that prints pinyin after characters, and a hacked page:
    breadcrumbs and fields, readings, spam, URL-encoded junk and mojibake are taken off."""
    utf8 = DATIAN_NOTICE.read_text(encoding="utf-8")
    expected, _ = _draft(DATIAN_NOTICE)
    readings = {"质": "质(zhì)", "通": "通(tōng)", "报": "报(bào)", "县": "县(xiàn)"}
    body = "".join(readings.get(ch, ch) for ch in utf8)
    lines = body.splitlines()
    lines[4] += "%E3%80%90%2B86%2015855158769%E3%80%91jim%20kelly"
    page = [
        "您当前的位置:首页 > 政务公开 > 通知公告",
        "精品国产一区二区在线观看,亚洲精品无码久久",
        "索引号: 003560012/2021-00012",
        "浏览次数: 1024",
        "【字体: 大 中 小】 打印本页 关闭窗口",
        *lines,
        "?? ??????? ????? ???????",
        "分享到: 微信 微博",
    ]
    copy = tmp_path / "notice-from-the-web.txt"
    copy.write_text("\n".join(page), encoding="utf-8")
    data, text = _draft(copy)
    for field in ("departments", "due", "theme", "lead_office", "title"):
        assert data[field] == expected[field], field
    dropped = next(line for line in text.splitlines() if "Taken off the page" in line)
    for what in ("pinyin reading", "web page", "spam", "ASCII junk", "mojibake"):
        assert what in dropped


@pytest.mark.pure
def test_department_names_reduce_to_one_unit() -> None:
    places = ["大田县"]
    same = {key(n, places) for n in ("县市场监管局", "市场监管部门", "县市场监督管理局")}
    assert same == {"市场监管"}
    assert key("县市场监管局直属事业单位", places) != "市场监管"
    assert key("文化和旅游部门", places) == key("县文化和旅游局", places)
    assert key("人行大田县支行", places) == "人行"


@pytest.mark.pure
def test_dates_as_notices_write_and_lose_them() -> None:
    (whole,) = find_dates("请于2021年9月30日前报送")
    assert (whole.value, whole.doubt) == (date(2021, 9, 30), None)
    (lost,) = find_dates("并于2021930日前将活动总结")
    assert lost.value == date(2021, 9, 30) and "recovered" in (lost.doubt or "")
    (either,) = find_dates("于2021111日前")
    assert set(either.readings) == {date(2021, 1, 11), date(2021, 11, 1)} and either.doubt
    assert find_dates("(国市监质〔2021111号)") == []
    (no_year,) = find_dates("9月30日前报送", year=2021)
    assert no_year.value == date(2021, 9, 30) and "no year" in (no_year.doubt or "")
    (month_end,) = find_dates("9月底前报送", year=2021)
    assert month_end.value == date(2021, 9, 30) and month_end.doubt


@pytest.mark.prefect
def test_import_then_check_then_launch_as_a_coordinator_does(
    tmp_path: Path, duban_env: Path, smtp: SmtpReceiver
) -> None:
    draft = tmp_path / "datian.yaml"
    made = duban("import", str(DATIAN_NOTICE), "--out", str(draft))
    assert made.returncode == 0, made.stderr
    assert "departments 18, 13 with duties of their own" in made.stdout

    # Not yet launchable: each missing channel is named with its line.
    check = duban("import", "--check", str(draft))
    assert check.returncode == 2
    missing = [line for line in check.stdout.splitlines() if ": missing: " in line]
    lines = draft.read_text(encoding="utf-8").splitlines()
    assert len(missing) == 19  # the coordinator and the 18 units
    for entry in missing:
        number = int(entry.split(":")[1])
        assert "notify: []" in lines[number - 1]
    assert any(
        "to check: recovered from 「2021930日」" in line for line in check.stdout.splitlines()
    )

    # The coordinator fills in the channels (here: the test's mail server) and launches.
    filled = []
    for line in lines:
        if line.strip().startswith("notify: []"):
            indent = line[: len(line) - len(line.lstrip())]
            line = f"{indent}notify: [{smtp.url('office@datian.test')}]"
        filled.append(line)
    draft.write_text("\n".join(filled) + "\n", encoding="utf-8")
    ready = duban("import", "--check", str(draft))
    assert ready.returncode == 0, ready.stdout
    assert "is a valid campaign file" in ready.stdout
    assert load_campaign_file(draft).campaign.due == date(2021, 9, 30)

    launched = duban("launch", str(draft), "--now", LAUNCH_DAY)
    assert launched.returncode == 0, launched.stderr
    assert "新增18条，发出18条，失败0条" in launched.stdout
    mails = smtp.to("office@datian.test")
    assert len(mails) == 18
    police = next(m for m in mails if "县公安局" in m.body)
    assert "昆仑2021" in police.body and len(links_in(police.body)) == 1


@pytest.mark.prefect
def test_a_draft_is_never_overwritten_and_bad_notices_write_nothing(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text("# reviewed by hand\n", encoding="utf-8")
    again = duban("import", str(DATIAN_NOTICE), "--out", str(draft))
    assert again.returncode == 2 and "exists" in again.stderr
    assert draft.read_text(encoding="utf-8") == "# reviewed by hand\n"

    missing = duban("import", str(tmp_path / "nowhere.txt"), "--out", str(tmp_path / "x.yaml"))
    assert missing.returncode == 2 and "nowhere.txt: file not found" in missing.stderr
    old_word = tmp_path / "notice.doc"
    old_word.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    binary = duban("import", str(old_word), "--out", str(tmp_path / "y.yaml"))
    assert binary.returncode == 2 and "save it as .docx or .txt" in binary.stderr
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 \x81\xff".encode("latin-1"))
    unknown = duban("import", str(latin), "--out", str(tmp_path / "z.yaml"))
    assert unknown.returncode == 2 and "--encoding" in unknown.stderr
    # A scanned PDF has no text to read, and nothing reads OFD here: both are refused, saying so.
    scanned = tmp_path / "scanned.pdf"
    scanned.write_bytes(scanned_pdf_bytes())
    refused = duban("import", str(scanned), "--out", str(tmp_path / "s.yaml"))
    assert refused.returncode == 2 and "a scanned PDF" in refused.stderr
    ofd = tmp_path / "notice.ofd"
    ofd.write_bytes(b"PK\x03\x04" + b"\0" * 26 + b"OFD.xml" + b"\0" * 64)
    refused = duban("import", str(ofd), "--out", str(tmp_path / "o.yaml"))
    assert refused.returncode == 2 and "an OFD document" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "draft.yaml",
        "latin.txt",
        "notice.doc",
        "notice.ofd",
        "scanned.pdf",
    ]


@pytest.mark.pure
def test_a_draft_of_any_text_is_a_campaign_once_channels_are_given() -> None:
    """Whatever a notice holds, the draft is YAML the campaign schema reads; with a channel
    for each unit it validates. (The property tests search further.)"""
    for raw in (
        "",
        "通知",
        "各有关单位:\n请于2021年13月40日前报送",
        "县公安局、县教育局:\n一、要求\n",
    ):
        notice = from_text(raw)
        text = render(extract(notice, TODAY), "x.txt", notice)
        filled = text.replace("notify: []", "notify: [a@b.cn]")
        data = yaml.safe_load(filled)
        if data["departments"]:
            parse_campaign(filled)


@pytest.mark.pure
def test_a_national_notice_gives_its_number_its_co_hosts_and_their_shared_duties() -> None:
    """An abridged national notice: five ministries issue it (in the title line and signed at
    the end), it prints its own number, and one duty item names two lines of work."""
    data, text = _draft(NOTICES / "national-2021-abridged.txt")
    assert data["lead_office"] == "市场监管总局"
    assert data["document_number"] == "国市监质〔2021〕51号"
    assert _marked(text, "document_number:") is None
    assert data["period"] == {"start": date(2021, 9, 1), "end": date(2021, 9, 30)}
    assert data["due"] == date(2021, 10, 15) and _marked(text, "due:") is None
    duties = {d["name"]: d.get("duties", []) for d in data["departments"]}
    # The co-hosts are units; the lead is the coordinator, not a unit.
    assert list(duties)[:4] == ["中央宣传部", "教育部", "科技部", "工业和信息化部"]
    assert "市场监管总局" not in duties
    # 「(二)教育、科技部门:」 gives its duties to both; 工信部门 is 工业和信息化部.
    assert duties["教育部"] == duties["科技部"] == ["推动质量进校园。", "组织质量科普活动。"]
    assert duties["工业和信息化部"] == ["开展质量标杆经验交流。"]
    # 国资部门 names no unit of the notice: kept, under the notice's words, and marked.
    assert duties["国资部门"] == ["推动中央企业开展质量提升。"]
    assert "named only in part 三(四)" in (_marked(text, "- code: gzbm") or "")
    assert data["requirements"]["note"].startswith("请各地于2021年10月15日前")


def _notice(tmp_path: Path, text: str, name: str = "notice.txt") -> tuple[dict[str, Any], str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return _draft(path)


@pytest.mark.pure
def test_notices_as_offices_write_them_wrapped_dated_forwarded_and_numbered(
    tmp_path: Path,
) -> None:
    # A salutation wrapped over two lines; a deadline with its weekday; a period 「至30日」.
    data, text = _notice(
        tmp_path,
        "永春县质量强县工作领导小组办公室\n永质强办〔2022〕3号\n"
        "关于开展2022年“质量月”活动的通知\n各乡镇人民政府,县直有关单位,\n"
        "县市场监督管理局、县发展和改革局、\n县教育局:\n一、活动时间\n2022年9月1日至30日。\n"
        "二、部门分工\n1.市场监管部门:开展计量服务。\n2.发改部门:开展质量提升。\n"
        "三、工作要求\n请于2022年10月8日(星期六)前将活动总结报送县质强办。\n",
    )
    assert [d["name"] for d in data["departments"]] == [
        "县市场监督管理局",
        "县发展和改革局",
        "县教育局",
    ]
    assert "各乡镇人民政府、县直有关单位" in text  # groups: said, not made units
    assert data["document_number"] == "永质强办〔2022〕3号"
    assert data["period"] == {"start": date(2022, 9, 1), "end": date(2022, 9, 30)}
    assert data["due"] == date(2022, 10, 8) and _marked(text, "due:") is None
    duties = {d["name"]: d.get("duties", []) for d in data["departments"]}
    assert duties["县市场监督管理局"] == ["开展计量服务。"]
    assert duties["县发展和改革局"] == ["开展质量提升。"]

    # Two things asked by two dates: the summary's is taken, and the other is pointed out.
    data, text = _notice(
        tmp_path,
        "关于开展2023年安全生产月活动的通知\n县发改局、县应急局:\n一、工作要求\n"
        "请于2023年7月5日下午下班前将活动总结报送县安委办。\n"
        "请于2023年6月10日前报送联系人名单。\n",
        "two-dates.txt",
    )
    assert data["due"] == date(2023, 7, 5)
    assert "2023-06-10" in (_marked(text, "due:") or "")

    # A forwarding notice with the higher level's notice pasted below its own date: the
    # city's number, office and deadline are not the county's.
    data, text = _notice(
        tmp_path,
        "大田县质量强县工作领导小组办公室关于转发《关于开展2021年“质量月”活动的通知》的通知\n"
        "县发改局、县工信局:\n现将三明市质量强市工作领导小组办公室《关于开展2021年“质量月”活动"
        "的通知》转发给你们,请于2021年9月28日前将活动总结报送县质量强县工作领导小组办公室。\n"
        "大田县质量强县工作领导小组办公室\n2021年9月12日\n三明市质量强市工作领导小组办公室\n"
        "市强市办〔2021〕2号\n三明市质量强市工作领导小组办公室关于开展2021年“质量月”活动的通知\n"
        "各县(市、区)质量强县工作领导小组办公室:\n请于2021年9月25日前报送总结。\n"
        "三明市质量强市工作领导小组办公室\n2021年9月1日\n",
        "forwarded.txt",
    )
    assert [d["name"] for d in data["departments"]] == ["县发改局", "县工信局"]
    assert "document_number" not in data and data["due"] == date(2021, 9, 28)
    assert data["title"] == "大田县2021年“质量月”活动"


@pytest.mark.pure
def test_a_word_notice_gives_the_duties_of_its_table(tmp_path: Path) -> None:
    from docx import Document

    document = Document()
    for line in ("关于开展2021年“质量月”活动的通知", "县工信局、县市场监管局:", "一、部门分工"):
        document.add_paragraph(line)
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(
        table.rows,
        [("单位", "任务"), ("工信部门", "开展质量标杆交流。"), ("市场监管部门", "开展抽查。")],
        strict=True,
    ):
        row.cells[0].text, row.cells[1].text = cells
    document.add_paragraph("二、工作要求")
    document.add_paragraph("请于2021年9月30日前将活动总结报送县质强办。")
    path = tmp_path / "notice.docx"
    document.save(str(path))
    data, _ = _draft(path)
    duties = {d["name"]: d.get("duties", []) for d in data["departments"]}
    assert duties == {"县工信局": ["开展质量标杆交流。"], "县市场监管局": ["开展抽查。"]}


@pytest.mark.prefect
def test_import_options_print_check_replace_and_read_a_named_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    # --out - prints the draft and writes no file.
    assert main(["import", str(DATIAN_NOTICE), "--out", "-"]) == 0
    printed = capsys.readouterr().out
    assert yaml.safe_load(printed)["due"] == date(2021, 9, 30)
    assert list(tmp_path.iterdir()) == []

    # --check on a notice says what the draft would lack, and writes nothing.
    assert main(["import", "--check", str(NATIONAL_PLAN)]) == 0
    said = capsys.readouterr().out
    assert "missing: the departments: the notice names none" in said
    assert "to check: due:" in said and "placeholder" in said

    # --force replaces a draft; without it the draft stays (see the test above).
    draft = tmp_path / "draft.yaml"
    draft.write_text("# old\n", encoding="utf-8")
    assert main(["import", str(DATIAN_NOTICE), "--out", str(draft), "--force"]) == 0
    assert yaml.safe_load(draft.read_text(encoding="utf-8"))["slug"] == "datian-quality-month-2021"

    # --explain says, value by value and unit by unit, which words of the notice gave it.
    assert main(["import", "--explain", str(DATIAN_NOTICE)]) == 0
    said = capsys.readouterr().out
    assert "theme: 深入实施质量提升行动 大力推进质量强县建设\n  from 二、活动主题" in said
    assert "due: 2021-09-30\n  from 「活动结束后，请县各有关部门" in said
    assert "  县公安局 (gaj)\n    named in the salutation\n    duties from 四(三) 公安部门" in said
    assert "the salutation: 「县发改局、县科技局" in said
    assert list(tmp_path.iterdir()) == [draft]

    # A Big5 notice is read with --encoding; a wrong one is refused, naming it.
    big5 = tmp_path / "notice-big5.txt"
    big5.write_bytes("縣發改局、縣公安局:\n請於2021年9月30日前報送總結。\n".encode("big5"))
    assert main(["import", str(big5), "--encoding", "big5", "--out", str(tmp_path / "b.yaml")]) == 0
    data = yaml.safe_load((tmp_path / "b.yaml").read_text(encoding="utf-8"))
    assert [d["name"] for d in data["departments"]] == ["县发改局", "县公安局"]
    assert data["due"] == date(2021, 9, 30)
    assert main(["import", str(big5), "--encoding", "no-such-codec", "--out", "-"]) == 2
    assert "cannot be read as no-such-codec" in capsys.readouterr().err


@pytest.mark.pure
def test_a_notice_flattened_into_one_line_gives_its_units_groups_duties_and_signatories() -> None:
    """The shapes real notices come in, run together as a web page flattens them: the title,
    an addressee list of groups and units, items that start with their units, a 牵头 bracket,
    a deadline sentence and a signature block with its date on one line."""
    flat = (
        "关于开展2023年“质量月”活动的通知各市、县（区）市场监管局，党委宣传部、发展改革委（局）、"
        "教育局（教体局），省直有关单位，省人行营业管理部：根据市场监管总局等25个部门的部署，决定"
        "开展活动。一、活动主题增强质量意识 推进高质量发展。二、重点活动（一）卫生健康部门组织医疗"
        "质量提升活动。（二）团省委和省妇联以“质量强省”为主题开展宣传。（三）开展消费品质量宣传"
        "（省市场监管局牵头，省商务厅配合，各有关部门负责）。三、工作要求请于2023年10月8日前将活动"
        "总结报送省市场监管局。省市场监管局 省委宣传部 省发展改革委 2023年8月20日"
    )
    draft = extract(from_text(flat), TODAY)
    assert draft.notice_title == "关于开展2023年“质量月”活动的通知"
    assert draft.theme.value == "增强质量意识 推进高质量发展"
    assert draft.due.value == date(2023, 10, 8) and draft.lead_office.value == "省市场监管局"
    # Every city's and county's lines of work are groups; bodies named one by one are units.
    assert draft.groups[:2] == [
        "各市、县(区)市场监管局",
        "党委宣传部、发展改革委(局)、教育局(教体局)",
    ]
    named = {u.name: u for u in draft.units}
    assert list(named)[:3] == ["省人行营业管理部", "省委宣传部", "省发展改革委"]
    assert (
        named["团省委"].duties
        == named["省妇联"].duties
        == ["团省委和省妇联以“质量强省”为主题开展宣传。"]
    )
    assert named["省商务厅"].duties == ["开展消费品质量宣传。"]
    # Read from the duties only, not addressed: kept, and marked for the coordinator.
    assert (
        named["卫生健康部门"].doubt and "named only in part 二(一)" in named["卫生健康部门"].doubt
    )
    assert "省市场监管局" not in named and "各有关部门" not in named
