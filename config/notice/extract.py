"""What a notice says, read into a draft campaign: every value with where it came from, and a
doubt when it was recovered, guessed or not found at all.

Nothing is made up silently. A department appears only if the notice names it; a date only if
the notice writes it. When the notice writes a date badly (「2021930日前」) or not at all, the
draft carries the reading or the fallback together with the doubt, and the draft's renderer
(`config.notice.draft`) marks it for the coordinator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from pypinyin import lazy_pinyin

from config.campaign.schema import Requirements
from config.notice import units
from config.notice.dates import FoundDate, find_dates, make_date, written
from config.notice.sections import Outline, find_part, first_sentence, outline, sentences
from config.notice.text import NoticeText, tidy

T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    """A value and, when the coordinator should look at it, why. `value` None: not found."""

    value: T | None
    doubt: str | None = None
    source: str | None = None  # where in the notice, for the draft's comments


@dataclass
class DraftUnit:
    name: str
    code: str
    duties: list[str] = field(default_factory=list)
    duty_from: list[str] = field(default_factory=list)  # 四(二) 工信部门
    doubt: str | None = None


@dataclass
class Draft:
    notice_title: str | None
    title: Found[str]
    slug: str
    lead_office: Found[str]
    document_number: Found[str]
    cited_numbers: list[str]
    theme: Found[str]
    guidance: Found[str]
    period: Found[tuple[date, date]]
    due: Found[date]
    common_duties: list[str]
    common_source: str | None
    requirements: Found[Requirements]
    units: list[DraftUnit]
    groups: list[str]  # addressees that are not units (各有关企业)
    duty_parts: list[str]  # the parts whose items gave units their duties (四)

    def doubts(self) -> list[str]:
        """Every value to check, in the draft's order."""
        found: list[tuple[str, Found[Any]]] = [
            ("title", self.title),
            ("lead_office", self.lead_office),
            ("document_number", self.document_number),
            ("theme", self.theme),
            ("guidance", self.guidance),
            ("period", self.period),
            ("due", self.due),
            ("requirements", self.requirements),
        ]
        out = [f"{name}: {f.doubt}" for name, f in found if f.doubt]
        out += [f"departments {u.name}: {u.doubt}" for u in self.units if u.doubt]
        return out


# A document number: 闽质强省办〔2021〕4号, with the brackets of any width, or one lost.
DOC_NUMBER = re.compile(
    r"(?P<org>[\u4e00-\u9fff]{1,12}?)\s*[〔\[［【(（]\s*(?P<year>(?:19|20)\d\d)\s*"
    r"(?P<close>[〕\]］】)）]?)\s*(?P<no>\d{1,4})\s*号"
)
# Words before a cited number that are not part of its issuer's abbreviation.
_CITING = re.compile(r"^.*?(?:根据|按照|依据|依照|参照|转发|印发|以及|及|和|与|并|的)")
_TITLES = (
    re.compile(r"关于.{2,60}?(?:通知|方案|意见|函|决定)$"),
    re.compile(r"^.{2,40}(?:通知|活动方案|实施方案|工作方案)$"),
)
_SEND = re.compile(r"报送|上报|报至|送至|送达|报给|提交|反馈|报县|报市|报省")
# What may stand between a deadline's day and its 前: 「(星期四)」, 「下午5:00」, 「下班」.
_BEFORE = re.compile(
    r"\s*(?:[(（]\s*(?:星期|周)[一二三四五六日天]\s*[)）])?\s*"
    r"(?:上午|中午|下午|晚上)?\s*(?:\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*[时点](?:\s*\d{1,2}\s*分)?)?"
    r"\s*(?:下班)?\s*(?:之?前|以前|为止)"
)


def extract(notice: NoticeText, today: date) -> Draft:
    """Read `notice`. `today` dates nothing in the draft: its year is used, and marked, when
    the notice gives none."""
    text = own_text(notice.text)
    shape = outline(text)
    notice_title, issuers = _title(shape)
    year = _year(notice_title or "", text)
    places = [p for p in (units.place_of(issuers[0] if issuers else ""),) if p]
    dates = find_dates(text, year)
    signed = _signed(text)
    lead = _lead_office(issuers[0] if issuers else None, signed, text)
    if lead.value and (place := units.place_of(lead.value)) and place not in places:
        places.append(place)
    salutation = _salutation(shape)
    asked, due = _due(text, dates, year, today)
    requirements = _requirements(asked, due)
    if lead.value is None and asked and (m := re.search(r"报送(.{2,30}?)[。，,]?$", asked[0])):
        lead = Found(m[1], "not named as the issuer: taken from where summaries are sent")
    title = _campaign_title(notice_title, lead.value, shape)
    taken: set[str] = set()
    draft_units = [DraftUnit(n, units.code_for(n, places, taken)) for n in salutation.names]
    for name in dict.fromkeys([*issuers[1:], *signed]):
        if lead.value and units.key(name, places) == units.key(lead.value, places):
            continue
        if all(units.key(name, places) != units.key(u.name, places) for u in draft_units):
            doubt = "signed the notice with the lead office: check that it reports too"
            code = units.code_for(name, places, taken)
            draft_units.append(DraftUnit(name, code, doubt=doubt))
    duty_parts = _duties(shape, draft_units, places, taken)
    common, common_source = _common_duties(shape)
    return Draft(
        notice_title=notice_title,
        title=title,
        slug=_slug(title.value or notice_title or "campaign", year),
        lead_office=lead,
        document_number=_document_number(shape.opening[: salutation.line]),
        cited_numbers=_cited(text),
        theme=_theme(shape, text),
        guidance=_guidance(shape),
        period=_period(text, year, title.value or ""),
        due=due,
        common_duties=common,
        common_source=common_source,
        requirements=requirements,
        units=draft_units,
        groups=salutation.groups,
        duty_parts=duty_parts,
    )


def own_text(text: str) -> str:
    """The notice without a document pasted below it: a forwarding notice (转发) often
    carries the higher level's notice after its own signature and date, with that notice's
    heading, number, deadline and signature. It starts at a second title line, or rather
    just after the own notice's date above it."""
    lines = text.split("\n")
    titles = [
        i
        for i, line in enumerate(lines)
        if len(line) <= 80 and _TITLES[0].search(line.replace(" ", ""))
    ]
    if len(titles) < 2 or titles[1] <= titles[0] + 2:
        return text
    cut = titles[1]
    for i in range(titles[1] - 1, titles[0], -1):
        dated = find_dates(lines[i])
        if dated and len(lines[i].replace(" ", "")) <= len(dated[0].text) + 2:
            cut = i + 1  # the own notice's closing date
            break
    return "\n".join(lines[:cut])


def _title(shape: Outline) -> tuple[str | None, list[str]]:
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
            m = _TITLES[0].search(joined) or _TITLES[1].search(joined)
            if m is None:
                continue
            before = candidate[: candidate.find("关于")].strip() if m[0].startswith("关于") else ""
            issuers = units.split_names(before)
            if not all(units.is_org(n) for n in issuers):
                joined_before = before.replace(" ", "")
                issuers = [joined_before] if units.is_org(joined_before) else []
            return m[0], issuers
    return None, []


def _year(title: str, text: str) -> int | None:
    """The notice's year: in its title (2021年“质量月”), else the most written one."""
    m = re.search(r"((?:19|20)\d\d)\s*年", title)
    if m:
        return int(m[1])
    years = re.findall(r"(?<![\d〔\[［【(（])((?:19|20)\d\d)\s*年", text)
    return int(max(set(years), key=years.count)) if years else None


def _signed(text: str) -> list[str]:
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


def _lead_office(in_title: str | None, signed: list[str], text: str) -> Found[str]:
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


def _salutation(shape: Outline) -> Salutation:
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


def _due(
    text: str, dates: list[FoundDate], year: int | None, today: date
) -> tuple[tuple[str, FoundDate | None] | None, Found[date]]:
    """The sentence that asks for the summaries with the deadline it gives, and that
    deadline: a date followed by 前 in a sentence that says to send (报送), preferring one that
    names the summary (总结) when the notice asks for several things by several dates."""
    candidates: list[tuple[bool, str, FoundDate]] = []
    for found in re.finditer(r"[^。\n]+。?", text):
        if not _SEND.search(found[0]):
            continue
        for d in dates:
            if found.start() <= d.start < found.end() and _BEFORE.match(text, d.end):
                summary = bool(re.search(r"总结|材料|报告|情况", found[0]))
                candidates.append((summary, found[0].strip(), d))
    if candidates:
        summary_first = [c for c in candidates if c[0]] or candidates
        _, sentence, chosen = summary_first[-1]
        doubt = chosen.doubt
        others = sorted({c[2].value for c in candidates} - {chosen.value})
        if others:
            also = "、".join(d.isoformat() for d in others)
            several = (
                f"the notice gives other dates to send things by ({also}): is this the summary's?"
            )
            doubt = f"{doubt}; {several}" if doubt else several
        return (sentence, chosen), Found(chosen.value, doubt)
    asked = next(
        (s.strip() for s in re.findall(r"[^。\n]*。", text) if _SEND.search(s) and "总结" in s),
        None,
    )
    quality_month = "质量月" in text
    known = year if year is not None else today.year
    guess = date(known, 9, 30) if quality_month else date(known, 12, 31)
    why = "the Quality Month ends" if quality_month else "the year ends"
    doubt = (
        f"the notice gives no deadline: set to when {why} in {year}, its year"
        if year is not None
        else f"the notice gives neither a deadline nor a year: set to {guess}, a placeholder"
    )
    return ((asked, None) if asked else None), Found(guess, doubt)


def _requirements(
    asked: tuple[str, FoundDate | None] | None, due: Found[date]
) -> Found[Requirements]:
    if asked is None:
        return Found(Requirements(), "the notice does not say what to send: a summary is assumed")
    sentence, written_date = asked
    note = sentence
    if written_date is not None and written_date.doubt and due.value:
        # The department reads this note: give it the recovered date, not the garbled one.
        note = note.replace(written_date.text, written(due.value))
    return Found(
        Requirements(
            summary=True,
            paper_copy="纸质" in sentence or "书面" in sentence,
            pictures=bool(re.search(r"图片|照片|相片", sentence)),
            video=bool(re.search(r"视频|录像|影像|视讯", sentence)),
            note=tidy(note),
        ),
    )


# A duty entry: 「(二)工信部门:…」 as an item, or 「工信部门:…」 as a table row.
_DUTY = re.compile(r"^([\u4e00-\u9fff、]{2,30}?)\s*[:：]\s*(.+)$")


def _duties(
    shape: Outline, draft_units: list[DraftUnit], places: list[str], taken: set[str]
) -> list[str]:
    """Each duty entry gives its duties to the unit it names (a unit of its own, marked, when
    it names none the notice addresses). Returns the parts that held duty entries."""
    parts: list[str] = []
    for part in shape.parts:
        entries = [(f"({i.number or '?'})", i.full) for i in part.items]
        entries += [("", line) for line in (*part.intro, *part.after)]
        for number, entry in entries:
            m = _DUTY.match(entry)
            if m is None:
                continue
            names = units.shared_suffix(units.split_names(m[1]))
            if not names or not all(units.is_org(n) and not units.is_role(n) for n in names):
                continue
            duties = [tidy(s) for s in sentences(m[2])]
            where = f"{part.number}{number} {m[1]}"
            for name in names:
                _give(name, duties, where, draft_units, places, taken)
            if part.number not in parts:
                parts.append(part.number)
    return parts


def _give(
    name: str,
    duties: list[str],
    where: str,
    draft_units: list[DraftUnit],
    places: list[str],
    taken: set[str],
) -> None:
    category = units.key(name, places)
    part = where.split()[0]
    same = [u for u in draft_units if units.key(u.name, places) == category]
    doubt = None
    if not same:
        same = [u for u in draft_units if units.related(category, units.key(u.name, places))]
        if same:
            doubt = f"{name} in part {part} read as {'、'.join(u.name for u in same)}"
    if not same:
        doubt = f"named only in part {part} ({name}): give the unit's own name"
        unit = DraftUnit(name, units.code_for(name, places, taken), doubt=doubt)
        draft_units.append(unit)
        same = [unit]
    for unit in same:
        unit.duties += [d for d in duties if d not in unit.duties]
        unit.duty_from.append(where)
        if doubt and unit.doubt is None:
            unit.doubt = doubt


def _common_duties(shape: Outline) -> tuple[list[str], str | None]:
    """The headlines of the part every unit carries out (三、活动重点)."""
    part = find_part(shape.parts, "重点", "主要任务", "主要内容", "活动内容", "工作任务")
    if part is None:
        return [], None
    duties = []
    for item in part.items:
        if re.match(r"^[\u4e00-\u9fff、]{2,30}?\s*[:：]", item.text):
            continue  # a unit's own duties
        duties.append(tidy(_headline(item.full)))
    return duties, f"{part.number}、{part.heading}"


def _headline(text: str) -> str:
    """An item's headline: its first sentence. Where copying lost the full stop after it, the
    headline runs into the text; it is cut at the second clause's end when that is short."""
    first = first_sentence(text)
    clauses = re.split(r"(?<=[,，])", first)
    if len(first) > 60 and len(clauses) >= 2 and len(clauses[0]) <= 30:
        second = clauses[1]
        # 「牢固树立质量第一意识深入宣传…」: a new sentence starts with one of these verbs.
        cut = re.search(
            r"(?<=[\u4e00-\u9fff]{4})(?:深入|全面|大力|认真|积极|围绕|贯彻|坚持|推动|加强|以)",
            second,
        )
        if cut:
            return clauses[0] + second[: cut.start()] + "。"
    return first if first.endswith("。") else first + "。"


def _theme(shape: Outline, text: str) -> Found[str]:
    part = find_part(shape.parts, "主题")
    if part and part.lines:
        return Found(tidy(part.lines[0].strip('“”"')), source=f"{part.number}、{part.heading}")
    m = re.search(r"(?:活动)?主题[是为:：]\s*[“\"]?([^”\"。\n]{4,60})", text)
    if m:
        return Found(tidy(m[1]), source="「主题」")
    return Found(None, "the notice states no theme")


def _guidance(shape: Outline) -> Found[str]:
    part = find_part(shape.parts, "指导思想", "总体要求", "目标任务")
    if part and part.lines:
        return Found(tidy("".join(part.lines)), source=f"{part.number}、{part.heading}")
    return Found(None, "the notice states no guiding idea")


def _period(text: str, year: int | None, title: str) -> Found[tuple[date, date]]:
    """「活动时间:2021年9月1日至30日」, read on its own line (the next lines hold other dates)."""
    m = re.search(r"(?:活动时间|时间安排|活动期间)[为是:：\s]*", text)
    if m:
        line_end = text.find("\n", m.end())
        line = text[m.end() : line_end if line_end > 0 else len(text)]
        if not line.strip() and line_end > 0:  # the heading stands alone: the next line
            next_end = text.find("\n", line_end + 1)
            line = text[line_end + 1 : next_end if next_end > 0 else len(text)]
        found = find_dates(line, year)
        if found:
            start = found[0]
            end: date | None = found[1].value if len(found) > 1 else None
            if end is None:
                # 「至30日」, 「至10月7日」: the end written without what the start gave.
                rest = re.match(
                    r"\s*(?:至|到|—|-|~)\s*(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日", line[start.end :]
                )
                if rest:
                    month = int(rest[1]) if rest[1] else start.value.month
                    end = make_date(start.value.year, month, int(rest[2]))
            if end is not None and start.value <= end:
                doubt = "; ".join(d.doubt for d in found[:2] if d.doubt) or None
                return Found((start.value, end), doubt, source=f"「{m[0].strip()}」")
    if "质量月" in (title or text) and year is not None:
        start_day, end_day = date(year, 9, 1), date(year, 9, 30)
        return Found((start_day, end_day), f"not stated: the Quality Month is September {year}")
    return Found(None, "the notice states no period")


def _document_number(heading: list[str]) -> Found[str]:
    """The notice's own number stands on a line of its own above the salutation."""
    for line in heading:
        m = DOC_NUMBER.fullmatch(line.replace(" ", ""))
        if m:
            number = _number(m)
            doubt = None if m["close"] else f"recovered from 「{m[0]}」 (a bracket was lost)"
            return Found(number, doubt, source="the heading")
    return Found(None, "the notice prints no number of its own")


def _cited(text: str) -> list[str]:
    """Numbers of the documents a notice cites (its higher levels' notices)."""
    return list(dict.fromkeys(_number(m) for m in DOC_NUMBER.finditer(text)))


def _number(m: re.Match[str]) -> str:
    org = _CITING.sub("", re.sub(r"^.*?[(（《》]", "", m["org"])) or m["org"]
    return f"{org}〔{m['year']}〕{int(m['no'])}号"


def _campaign_title(notice_title: str | None, office: str | None, shape: Outline) -> Found[str]:
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


def _slug(title: str, year: int | None) -> str:
    place = units.place_of(title)
    rest = title.removeprefix(place or "")
    words = []
    if place:
        words.append("".join(lazy_pinyin(place[:-1] if len(place) > 2 else place)))
    if "质量月" in rest:
        words.append("quality-month")
    else:
        core = re.sub(r"[\d年“”\"《》]", "", rest).removesuffix("活动")
        words.append("".join(lazy_pinyin(core[:8], errors="ignore")))
    if year:
        words.append(str(year))
    slug = re.sub(r"[^a-z0-9-]+", "", "-".join(w for w in words if w).lower()).strip("-")
    return slug[:60].strip("-") or "campaign"
