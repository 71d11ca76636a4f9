"""What a notice asks: the deadline and what to send by it, each unit's duties in its duty
items and the duties all share, the guiding idea and the campaign's period. Work given
elsewhere (牵头 brackets, tables, requests) is `assignments`; the theme is `theme`."""

from __future__ import annotations

import re
from datetime import date

from config.campaign.schema import Requirements
from config.notice import units
from config.notice.dates import FoundDate, find_dates, make_date, written
from config.notice.model import DraftUnit, Found
from config.notice.patterns import BEFORE, DUTY_ENTRY, DUTY_LEAD, SEND
from config.notice.sections import Outline, find_part, first_sentence, sentences
from config.notice.text import tidy


def due_date(
    text: str, dates: list[FoundDate], year: int | None, today: date
) -> tuple[tuple[str, FoundDate | None] | None, Found[date]]:
    """The sentence that asks for the summaries with the deadline it gives, and that
    deadline: a date followed by 前 in a sentence that says to send (报送), preferring one that
    names the summary (总结) when the notice asks for several things by several dates."""
    candidates: list[tuple[bool, str, FoundDate]] = []
    for found in re.finditer(r"[^。\n]+。?", text):
        if not SEND.search(found[0]):
            continue
        for d in dates:
            if found.start() <= d.start < found.end() and BEFORE.match(text, d.end):
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
        return (sentence, chosen), Found(chosen.value, doubt, source=f"「{tidy(sentence)}」")
    asked = next(
        (s.strip() for s in re.findall(r"[^。\n]*。", text) if SEND.search(s) and "总结" in s),
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


def requirements_of(
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


def unit_duties(
    shape: Outline, draft_units: list[DraftUnit], places: list[str], taken: set[str]
) -> list[str]:
    """Each duty entry gives its duties to the unit it names (a unit of its own, marked, when
    it names none the notice addresses). Returns the parts that held duty entries."""
    parts: list[str] = []
    for part in shape.parts:
        entries = [(f"({i.number or '?'})", i.full) for i in part.items]
        entries += [("", line) for line in (*part.intro, *part.after)]
        for number, entry in entries:
            m = DUTY_ENTRY.match(entry)
            if m is None and number:  # an item only: 「(六)卫生健康部门组织…」
                m = DUTY_LEAD.match(entry)
            if m is None:
                continue
            names = units.shared_suffix(units.split_joined(m[1]))
            if not names or not all(units.is_unit(n) for n in names):
                continue
            whole = m[0] if m.re is DUTY_LEAD else m[2]
            duties = [tidy(s) for s in sentences(whole)]
            where = f"{part.number}{number} {m[1]}"
            for name in names:
                give(name, duties, where, draft_units, places, taken, f"part {part.number}{number}")
            if part.number not in parts:
                parts.append(part.number)
    return parts


def give(
    name: str,
    duties: list[str],
    where: str,
    draft_units: list[DraftUnit],
    places: list[str],
    taken: set[str],
    named_in: str,
) -> None:
    """`duties` to the unit `name` stands for (a unit of its own, marked, when the notice
    addresses none such); `where` says where they were read, `named_in` where the name was."""
    category = units.key(name, places)
    same = [u for u in draft_units if units.key(u.name, places) == category]
    doubt = None
    if not same:
        same = [u for u in draft_units if units.related(category, units.key(u.name, places))]
        if same:
            doubt = f"{name} in {named_in} read as {'、'.join(u.name for u in same)}"
    if not same:
        doubt = f"named only in {named_in} ({name}): give the unit's own name"
        unit = DraftUnit(name, units.code_for(name, places, taken), doubt=doubt, named_in=named_in)
        draft_units.append(unit)
        same = [unit]
    for unit in same:
        unit.duties += [d for d in duties if d not in unit.duties]
        unit.duty_from.append(where)
        if doubt and unit.doubt is None:
            unit.doubt = doubt


def common_duties(shape: Outline) -> tuple[list[str], str | None]:
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


def guidance(shape: Outline) -> Found[str]:
    part = find_part(shape.parts, "指导思想", "总体要求", "目标任务")
    if part and part.lines:
        return Found(tidy("".join(part.lines)), source=f"{part.number}、{part.heading}")
    return Found(None, "the notice states no guiding idea")


def period(text: str, year: int | None, title: str) -> Found[tuple[date, date]]:
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
