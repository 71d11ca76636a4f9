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

from config.notice import units
from config.notice.dates import FoundDate, find_dates, written
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
    duty_source: str | None = None  # 四(二) 工信部门
    source: str = "salutation"  # salutation, co-hosts, duties
    doubt: str | None = None


@dataclass
class Submission:
    summary: bool = True
    paper_copy: bool = False
    pictures: bool = False
    video: bool = False
    note: str | None = None


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
    requirements: Found[Submission]
    units: list[DraftUnit]
    groups: list[str]  # addressees that are not units (各有关企业)
    unmatched_duties: list[str]  # duty items that name no unit in the notice

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
_TITLES = (
    re.compile(r"关于.{2,60}?(?:通知|方案|意见|函|决定)$"),
    re.compile(r"^.{2,40}(?:通知|活动方案|实施方案|工作方案)$"),
)
_DEADLINE_VERB = re.compile(r"报送|上报|报至|送至|送达|报给|提交|反馈|报县|报市|报省")


def extract(notice: NoticeText, today: date) -> Draft:
    """Read `notice`. `today` dates nothing in the draft: it is the year used, and marked, when
    the notice gives none."""
    text = notice.text
    shape = outline(text)
    notice_title, issuers = _title(shape)
    year = _year(notice_title or "", text)
    places = [p for p in (units.place_of(issuers[0] if issuers else ""),) if p]
    dates = find_dates(text, year)
    signature = _signature(text)
    lead = _lead_office(issuers[0] if issuers else None, signature, text)
    if lead.value and (place := units.place_of(lead.value)) and place not in places:
        places.append(place)
    salutation, groups = _salutation(shape)
    deadline_sentence, due = _due(text, dates, year, today)
    requirements = _requirements(deadline_sentence, due)
    if (
        lead.value is None
        and deadline_sentence
        and (m := re.search(r"报送(.{2,30}?)[。，,]?$", deadline_sentence))
    ):
        lead = Found(m[1], "not named as the issuer: taken from where summaries are sent")
    cohosts = [
        n
        for n in dict.fromkeys([*issuers[1:], *signature])
        if not lead.value or units.key(n, places) != units.key(lead.value, places)
    ]
    title = _campaign_title(notice_title, lead.value, shape)
    taken: set[str] = set()
    draft_units: list[DraftUnit] = []
    for name in salutation:
        draft_units.append(DraftUnit(name, units.code_for(name, places, taken)))
    for name in cohosts:
        if all(units.key(name, places) != units.key(u.name, places) for u in draft_units):
            draft_units.append(
                DraftUnit(name, units.code_for(name, places, taken), source="co-hosts")
            )
    unmatched = _duties(shape, draft_units, places, taken)
    common, common_source = _common_duties(shape)
    return Draft(
        notice_title=notice_title,
        title=title,
        slug=_slug(title.value or notice_title or "campaign", year),
        lead_office=lead,
        document_number=_document_number(shape),
        cited_numbers=_cited(text),
        theme=_theme(shape, text),
        guidance=_guidance(shape),
        period=_period(text, dates, year, title.value or ""),
        due=due,
        common_duties=common,
        common_source=common_source,
        requirements=requirements,
        units=draft_units,
        groups=groups,
        unmatched_duties=unmatched,
    )


def _title(shape: Outline) -> tuple[str | None, list[str]]:
    """The notice's title, and the bodies that issue it when the title line names them
    (「市场监管总局 中央宣传部 … 关于开展…的通知」: the first leads, the others co-host)."""
    for line in shape.opening[:12]:
        if len(line) > 120:
            continue
        joined = line.replace(" ", "")
        m = _TITLES[0].search(joined) or _TITLES[1].search(joined)
        if m is None:
            continue
        before = line[: line.find("关于")].strip() if m[0].startswith("关于") else ""
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


def _signature(text: str) -> list[str]:
    """The bodies signed at the end of the notice: one, or the lead and its co-hosts."""
    lines = [line for line in text.split("\n") if line]
    names: list[str] = []
    for line in lines[-15:]:
        if line.startswith(("(", "（")) or "。" in line or re.match(r"^附件", line):
            continue
        found = units.split_names(line)
        if found and all(units.is_org(n) for n in found):
            names += [n for n in found if n not in names]
    return names


def _lead_office(in_title: str | None, signature: list[str], text: str) -> Found[str]:
    if in_title:
        return Found(in_title, source="the title line")
    if len(signature) == 1:
        return Found(signature[0], source="the signature")
    if signature:
        return Found(signature[0], "several bodies sign the notice: the first is taken as the lead")
    m = re.search(r"(?<![\u4e00-\u9fff])[年月日由在于]?([\u4e00-\u9fff]{2,20}?)联合", text)
    if m and units.is_org(m[1]):
        return Found(m[1], f"read from 「{m[1]}联合…」: check who leads the campaign")
    return Found(None, "the notice names no issuing office")


def _salutation(shape: Outline) -> tuple[list[str], list[str]]:
    """The units a notice is addressed to (县发改局、…、县市场监管局直属事业单位,各有关企业:),
    and the addressees that are groups rather than units (各有关企业)."""
    for line in shape.opening:
        if not line.endswith((":", "：")):
            continue
        names = units.split_names(line[:-1])
        if len(names) < 1 or not all(units.is_org(n) or units.is_group(n) for n in names):
            continue
        found = [n for n in names if not units.is_group(n)]
        groups = [n for n in names if units.is_group(n)]
        return list(dict.fromkeys(found)), groups
    return [], []


def _due(
    text: str, dates: list[FoundDate], year: int | None, today: date
) -> tuple[str | None, Found[date]]:
    """The sentence that asks for the summaries, and the deadline it gives: the last date
    written just before 前 in a sentence that says to send (报送)."""
    best: tuple[str, FoundDate] | None = None
    for sentence_match in re.finditer(r"[^。\n]+。?", text):
        sentence = sentence_match.group(0)
        if not _DEADLINE_VERB.search(sentence):
            continue
        start = sentence_match.start()
        for d in dates:
            if start <= d.start < sentence_match.end() and re.match(
                r"\s*(?:之?前|以前|为止)", text[d.end : d.end + 4]
            ):
                best = (sentence.strip(), d)
    if best is not None:
        return best[0], Found(best[1].value, best[1].doubt, source=f"「{best[1].text}」")
    asked = next(
        (
            s.strip()
            for s in re.findall(r"[^。\n]*。", text)
            if _DEADLINE_VERB.search(s) and "总结" in s
        ),
        None,
    )
    if year is not None:
        guess = date(year, 9, 30) if "质量月" in text else date(year, 12, 31)
        why = "the Quality Month ends" if "质量月" in text else "the year ends"
        return asked, Found(
            guess, f"the notice gives no deadline: set to when {why} in {year}, its year"
        )
    guess = date(today.year, 9, 30) if "质量月" in text else date(today.year, 12, 31)
    return asked, Found(
        guess, f"the notice gives neither a deadline nor a year: set to {guess}, a placeholder"
    )


def _requirements(sentence: str | None, due: Found[date]) -> Found[Submission]:
    if sentence is None:
        return Found(Submission(), "the notice does not say what to send: a summary is assumed")
    note = sentence
    if due.doubt and due.source and due.value:
        # The department reads this note: give it the recovered date, not the garbled one.
        note = note.replace(due.source.strip("「」"), written(due.value))
    note = tidy(note)
    return Found(
        Submission(
            summary=True,
            paper_copy="纸质" in sentence or "书面" in sentence,
            pictures=bool(re.search(r"图片|照片|相片", sentence)),
            video=bool(re.search(r"视频|录像|影像|视讯", sentence)),
            note=note,
        ),
        source="the closing request",
    )


def _duties(
    shape: Outline, draft_units: list[DraftUnit], places: list[str], taken: set[str]
) -> list[str]:
    """Each numbered item 「(二)工信部门:…」 gives its duties to the unit it names; returns
    the names that match no unit of the salutation (they become units of their own)."""
    unmatched: list[str] = []
    for part in shape.parts:
        for item in part.items:
            m = re.match(r"^([\u4e00-\u9fff、]{2,30}?)\s*[:：]\s*(.+)$", item.full)
            if m is None:
                continue
            names = units.shared_suffix(units.split_names(m[1]))
            if not names or not all(units.is_org(n) for n in names):
                continue
            duties = [tidy(s) for s in sentences(m[2])]
            where = f"{part.number}({item.number or '?'}) {m[1]}"
            for name in names:
                _give(name, duties, where, draft_units, places, taken, unmatched)
    return unmatched


def _give(
    name: str,
    duties: list[str],
    where: str,
    draft_units: list[DraftUnit],
    places: list[str],
    taken: set[str],
    unmatched: list[str],
) -> None:
    category = units.key(name, places)
    same = [u for u in draft_units if units.key(u.name, places) == category]
    doubt = None
    if not same:
        same = [u for u in draft_units if units.related(category, units.key(u.name, places))]
        if same:
            doubt = f"{name} in part {where.split()[0]} read as {'、'.join(u.name for u in same)}"
    if not same:
        unit = DraftUnit(
            name,
            units.code_for(name, places, taken),
            source="duties",
            doubt=f"named only in part {where.split()[0]} ({name}): give the unit's own name",
        )
        draft_units.append(unit)
        unmatched.append(name)
        same = [unit]
    for unit in same:
        unit.duties += [d for d in duties if d not in unit.duties]
        unit.duty_source = where if unit.duty_source is None else f"{unit.duty_source}; {where}"
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


def _period(
    text: str, dates: list[FoundDate], year: int | None, title: str
) -> Found[tuple[date, date]]:
    m = re.search(r"(?:活动时间|时间安排|活动期间)[为是:：\s]*", text)
    if m:
        near = [d for d in dates if m.end() <= d.start <= m.end() + 40]
        if len(near) >= 2 and near[0].value <= near[1].value:
            doubt = near[0].doubt or near[1].doubt
            return Found((near[0].value, near[1].value), doubt, source=f"「{m[0].strip()}」")
    if "质量月" in (title or text) and year is not None:
        start, end = date(year, 9, 1), date(year, 9, 30)
        return Found((start, end), f"not stated: the Quality Month is September {year}")
    return Found(None, "the notice states no period")


def _document_number(shape: Outline) -> Found[str]:
    """The notice's own number stands on a line of its own above the salutation."""
    for line in shape.opening:
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
    org = re.sub(r"^.*?[(（《]", "", m["org"])
    return f"{org}〔{m['year']}〕{int(m['no'])}号"


def _campaign_title(notice_title: str | None, office: str | None, shape: Outline) -> Found[str]:
    """关于开展2021年“质量月”活动的通知 by 大田县… gives 大田县2021年“质量月”活动. A
    campaign must have a title: without a title line, the notice's first line stands in."""
    if not notice_title:
        first = next((line[:40] for line in shape.opening if line.strip()), "未找到标题的活动")
        return Found(first, "the notice has no title line: its first line stands in")
    core = re.sub(r"^关于(?:组织)?(?:开展|举办|做好|印发)?", "", notice_title)
    core = re.sub(r"(?:的)?(?:通知|实施方案|工作方案|方案|意见|函|决定)$", "", core).strip()
    place = units.place_of(office or "")
    if place and not core.startswith(place) and not core.startswith(("全国", "全省", "全市")):
        core = place + core
    return Found(core or notice_title, source=f"the title 《{notice_title}》")


def _slug(title: str, year: int | None) -> str:
    from pypinyin import lazy_pinyin

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
