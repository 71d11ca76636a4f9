"""Who sends a notice: its title and year, the issuing and co-signing bodies (with the title,
above it, or signed above the date), the lead office, and the campaign's title. Whom it is
addressed to is `addressees`; its number is `number`."""

from __future__ import annotations

import re

from config.notice import units
from config.notice.dates import find_dates
from config.notice.model import Found
from config.notice.patterns import TITLES
from config.notice.sections import Outline


def title_and_issuers(shape: Outline) -> tuple[str | None, list[str]]:
    """The notice's title, and the bodies that issue it when the title line names them
    (「市场监管总局 中央宣传部 … 关于开展…的通知」: the first leads, the others co-host).
    A title wrapped over two lines is joined."""
    opening = [line.strip("《》 ") for line in shape.opening[:12]]
    for i, line in enumerate(opening):
        candidates = [line]
        # A title wrapped onto the next lines; not when such a line is a title of its own.
        for more in (1, 2):
            wrapped = opening[i + 1 : i + 1 + more]
            if "关于" in line and len(wrapped) == more and not any(_title(w) for w in wrapped):
                candidates.append(line + "".join(wrapped))
        for candidate in candidates:
            if len(candidate) > 120:
                continue
            # A number printed after the title on its line is no part of it.
            joined = re.sub(r"\s*\S{2,12}[〔\[［【(（]\d{4}[〕\]］】)）]\d+号$", "", candidate)
            joined = joined.replace(" ", "")
            m = TITLES[0].search(joined) or TITLES[1].search(joined)
            if m is None:
                continue
            before = candidate[: candidate.find("关于")].strip() if m[0].startswith("关于") else ""
            issuers = units.split_names(before)
            if not all(units.is_org(n) for n in issuers):
                joined_before = before.replace(" ", "")
                issuers = [joined_before] if units.is_org(joined_before) else []
            return m[0], issuers or _issuers_above(opening[:i])
    return None, []


def _title(line: str) -> bool:
    """A line that is a 「关于…的通知」 title of its own (not the end of a wrapped one)."""
    return bool(TITLES[0].search(line.replace(" ", "")))


def _issuers_above(lines: list[str]) -> list[str]:
    """Issuers printed one a line above the title (承德市科学技术局 / 中共承德市委宣传部 / …)."""
    found: list[str] = []
    for line in reversed(lines):
        names = units.split_names(line)
        if not names or not all(units.is_org(n) and not units.is_group(n) for n in names):
            break
        found = names + found
    return found


def notice_year(title: str, text: str) -> int | None:
    """The notice's year: in its title (2021年“质量月”), else the most written one."""
    m = re.search(r"((?:19|20)\d\d)\s*年", title)
    if m:
        return int(m[1])
    years = re.findall(r"(?<![\d〔\[［【(（])((?:19|20)\d\d)\s*年", text)
    if not years:  # dated only in Chinese numerals, 二○○九年五月一日
        years = [str(d.value.year) for d in find_dates(text) if not d.text[0].isdigit()]
    return int(max(set(years), key=years.count)) if years else None


def signed_by(text: str) -> list[str]:
    """The bodies signed at the end of the notice, above its date: one, or the lead and its
    co-hosts, one a line or several on a line (「省市场监管局 省委宣传部 … 2023年8月20日」).
    The signature stands right above the notice's date, wherever a table or an annex after it
    puts the end of the text; without a date line, it is sought among the last lines. In a
    notice flattened into one line, it is what follows the last full stop."""
    lines = [line for line in text.split("\n") if line.strip()]
    dated = [i for i, line in enumerate(lines) if i and _date_only(line)]
    for i in dated:
        above = _names_above(lines[:i])
        if above:
            return above
    for line in lines:  # 「…名单 常州市文明办 常州市教育局 … 2019年7月3日 (此件公开发布)」
        m = _ENDS_DATED.search(line)
        if m and (beside := _names_before(line[: m.start()])):
            return beside
    if dated:  # dated, with no name above the date: the notice is not signed
        return []
    if lines and "。" in lines[-1]:
        lines[-1] = lines[-1].rsplit("。", 1)[1]
    names: list[str] = []
    for line in lines[-15:]:
        if line.startswith(("(", "（")) or "。" in line or re.match(r"^附件", line):
            continue
        found = _signers(line)
        names += [n for n in found if n not in names]
    return names


def _date_only(line: str) -> bool:
    dated = find_dates(line)
    return bool(dated) and len(line.replace(" ", "")) <= len(dated[0].text.replace(" ", "")) + 2


def _names_above(lines: list[str]) -> list[str]:
    """Lines of bodies' names right above a line (the signature above the date)."""
    found: list[str] = []
    for line in reversed(lines[-40:]):  # a national notice may carry thirty signatures
        if line.startswith(("(", "（")) and not found:
            continue  # 「(中国科协办公厅代章)」 under the name it stands for
        names = _signers(line)
        if not names:
            break
        found = names + found
    return list(dict.fromkeys(found))


# A date that ends a line, after the names signed: what may follow it is a publication note.
_ENDS_DATED = re.compile(
    r"(?:(?:19|20)\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[〇○零O一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月"
    r"[一二三四五六七八九十]{1,3}日)\s*(?:[(（][^()（）]{0,12}[)）])?\s*$"
)


def _names_before(text: str) -> list[str]:
    """Bodies' names at the end of a text, before a date on its line."""
    found: list[str] = []
    for token in reversed(text.rsplit("。", 1)[-1].split()):
        names = _run(token)
        if not all(units.is_org(n) and not units.is_group(n) for n in names):
            break
        found = names + found
    return found


def _run(token: str) -> list[str]:
    """Names written together, as joining spaced-out characters leaves them: 「常州市文明办
    常州市教育局」 spaced out gives 「常州市文明办常州市教育局」, two names."""
    for i in range(3, len(token) - 2):
        head, rest = token[:i], token[i:]
        if units.is_org(head) and units.is_org(rest) and units.placed(rest) and units.placed(head):
            return [head, *_run(rest)]
    return [token]


def _signers(line: str) -> list[str]:
    """The bodies a signature line names (its date taken off), or none if it is no such line."""
    for dated in find_dates(line):
        line = line.replace(dated.text, " ")
    found = [name for token in units.split_names(line) for name in _run(token)]
    if found and all(units.is_org(n) and not units.is_group(n) for n in found):
        return found
    return []


def lead_office(
    in_title: str | None, signed: list[str], text: str, asked: str | None, portal: str | None
) -> Found[str]:
    """Who issues the notice: named with the title, signed at the end, or, failing those, read
    from 「X联合…」, 「X等25个部门」, where summaries are sent, or the page's 发布机构 field."""
    if in_title:
        # 「市人民政府关于…」 signed 「咸宁市人民政府」: the signature names it in full.
        short = units.shortened(in_title)
        fuller = next(
            (n for n in signed if n != in_title and units.shortened(n).endswith(short)), in_title
        )
        return Found(fuller, source="the title line")
    if len(signed) == 1:
        return Found(signed[0], source="the signature")
    if signed:
        return Found(signed[0], "several bodies sign the notice: the first is taken as the lead")
    own = re.sub(r"《[^》]*》", "", text)  # not the issuers of a document it cites
    for pattern in (_JOINTLY, _WITH_OTHERS, _DECIDE):
        m = pattern.search(own)
        name = m and next(g for g in m.groups() if g)
        if m and name and units.is_org(name) and not units.is_group(name):
            return Found(name, f"read from 「{m[0]}」: check who leads the campaign")
    m = _SENT_TO.search(asked or "")
    if m and units.is_org(m[1]):
        return Found(m[1], "not named as the issuer: taken from where summaries are sent")
    if portal and units.is_org(portal) and units.placed(portal):
        return Found(portal, "taken from the page's 发布机构 field")
    return Found(None, "the notice names no issuing office")


_JOINTLY = re.compile(
    r"(?<![\u4e00-\u9fff])[年月日由在于]?([\u4e00-\u9fff]{2,20}?)(?:联合|会同)"
    r"|由([\u4e00-\u9fff]{2,20}?)主办"  # 「本次活动由区减灾委员会办公室主办」
)
_WITH_OTHERS = re.compile(r"([\u4e00-\u9fff]{2,20}?)等\s*\d{1,3}\s*个?(?:部门|单位)")
# 「市市场监管局、市消保委决定组织开展…」: the first of the bodies that decide leads.
_DECIDE = re.compile(
    r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,20}?)(?:、[\u4e00-\u9fff]{2,20}?)*(?:研究)?决定"
)
# 「…报送县质量强县工作领导小组办公室。」, 「…提交给四川省…学会秘书处,以便…」
_SENT_TO = re.compile(
    r"(?:报送至?|报至|送至|送达|提交给|提交至|反馈至|报)\s*([\u4e00-\u9fff]{2,30}?)(?=[。，,;；\s]|$)"
)


def campaign_title(notice_title: str | None, office: str | None, shape: Outline) -> Found[str]:
    """关于开展2021年“质量月”活动的通知 by 大田县… gives 大田县2021年“质量月”活动. A
    campaign must have a title: without a title line, the notice's first line stands in."""
    if not notice_title:
        first = next((line[:40] for line in shape.opening if line.strip()), "未找到标题的活动")
        return Found(first, "the notice has no title line: its first line stands in")
    forwarded = re.search(r"转发.*?《(.+?)》", notice_title)
    if forwarded:  # 「关于转发《关于开展…的通知》的通知」: the campaign is the forwarded one's
        notice_title = forwarded[1]
    core = re.sub(r"^关于(?:组织)?(?:开展|举办|做好|印发)?", "", notice_title)
    core = re.sub(r"(?:的)?(?:通知|实施方案|工作方案|方案|意见|函|决定)$", "", core).strip()
    place = units.place_of(office or "")
    source = f"the title 《{notice_title}》"
    if place and not core.startswith(place) and not core.startswith(("全国", "全省", "全市")):
        doubt = f"made from the title 《{notice_title}》 with the issuing office's place, {place}"
        return Found(place + core, doubt, source=source)
    return Found(core or notice_title, source=source)
