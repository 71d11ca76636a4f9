"""Who sends a notice and to whom: its title and year, the issuing and co-signing bodies, the
units addressed, its own document number and the ones it cites, and the campaign's title."""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.notice import units
from config.notice.model import Found
from config.notice.patterns import CITING, DOC_NUMBER, TITLES
from config.notice.sections import Outline


def title_and_issuers(shape: Outline) -> tuple[str | None, list[str]]:
    """The notice's title, and the bodies that issue it when the title line names them
    (「市场监管总局 中央宣传部 … 关于开展…的通知」: the first leads, the others co-host).
    A title wrapped over two lines is joined."""
    opening = shape.opening[:12]
    for i, line in enumerate(opening):
        candidates = [line]
        if "关于" in line and i + 1 < len(opening):
            candidates.append(line + opening[i + 1])
        for candidate in candidates:
            if len(candidate) > 120:
                continue
            joined = candidate.replace(" ", "")
            m = TITLES[0].search(joined) or TITLES[1].search(joined)
            if m is None:
                continue
            before = candidate[: candidate.find("关于")].strip() if m[0].startswith("关于") else ""
            issuers = units.split_names(before)
            if not all(units.is_org(n) for n in issuers):
                joined_before = before.replace(" ", "")
                issuers = [joined_before] if units.is_org(joined_before) else []
            return m[0], issuers
    return None, []


def notice_year(title: str, text: str) -> int | None:
    """The notice's year: in its title (2021年“质量月”), else the most written one."""
    m = re.search(r"((?:19|20)\d\d)\s*年", title)
    if m:
        return int(m[1])
    years = re.findall(r"(?<![\d〔\[［【(（])((?:19|20)\d\d)\s*年", text)
    return int(max(set(years), key=years.count)) if years else None


def signed_by(text: str) -> list[str]:
    """The bodies signed at the end of the notice, above its date: one, or the lead and its
    co-hosts. Lines of names only; a sentence or a bracketed 代章 line is skipped."""
    lines = [line for line in text.split("\n") if line]
    names: list[str] = []
    for line in lines[-15:]:
        if line.startswith(("(", "（")) or "。" in line or re.match(r"^附件", line):
            continue
        found = units.split_names(line)
        if found and all(units.is_org(n) and not units.is_group(n) for n in found):
            names += [n for n in found if n not in names]
    return names


def lead_office(in_title: str | None, signed: list[str], text: str) -> Found[str]:
    if in_title:
        return Found(in_title, source="the title line")
    if len(signed) == 1:
        return Found(signed[0], source="the signature")
    if signed:
        return Found(signed[0], "several bodies sign the notice: the first is taken as the lead")
    m = re.search(r"(?<![\u4e00-\u9fff])[年月日由在于]?([\u4e00-\u9fff]{2,20}?)联合", text)
    if m and units.is_org(m[1]):
        return Found(m[1], f"read from 「{m[1]}联合…」: check who leads the campaign")
    return Found(None, "the notice names no issuing office")


@dataclass(frozen=True)
class Salutation:
    names: list[str]  # the units addressed
    groups: list[str]  # addressees that are groups (各有关企业)
    line: int  # the opening's line after it (everything above is the heading)


def read_salutation(shape: Outline) -> Salutation:
    """The units a notice is addressed to (县发改局、…、县市场监管局直属事业单位,各有关企业:),
    a list that may wrap over several lines, and the addressees that are groups."""
    opening = shape.opening
    for first in range(len(opening)):
        joined, last = opening[first], first
        while joined.endswith(("、", ",", "，", ";", "；")) and last + 1 < len(opening):
            last += 1
            joined += opening[last]
        if not joined.endswith((":", "：")):
            continue
        names = units.split_names(joined[:-1])
        if not names or not all(units.is_org(n) or units.is_group(n) for n in names):
            continue
        found = [n for n in names if not units.is_group(n)]
        groups = [n for n in names if units.is_group(n)]
        return Salutation(list(dict.fromkeys(found)), groups, first)
    return Salutation([], [], len(opening))


def document_number(heading: list[str]) -> Found[str]:
    """The notice's own number stands on a line of its own above the salutation."""
    for line in heading:
        m = DOC_NUMBER.fullmatch(line.replace(" ", ""))
        if m:
            number = _number(m)
            doubt = None if m["close"] else f"recovered from 「{m[0]}」 (a bracket was lost)"
            return Found(number, doubt, source="the heading")
    return Found(None, "the notice prints no number of its own")


def cited_numbers(text: str) -> list[str]:
    """Numbers of the documents a notice cites (its higher levels' notices)."""
    return list(dict.fromkeys(_number(m) for m in DOC_NUMBER.finditer(text)))


def _number(m: re.Match[str]) -> str:
    org = CITING.sub("", re.sub(r"^.*?[(（《》]", "", m["org"])) or m["org"]
    return f"{org}〔{m['year']}〕{int(m['no'])}号"


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
