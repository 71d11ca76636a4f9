"""Dates as notices write them (2021年9月30日, 9月30日, 9月底), and as copying loses them:
「2021930日前」 has lost 年 and 月, 「20214号」 a bracket. A date is recovered when only one
reading makes a real day; otherwise every reading is kept, for the coordinator to choose.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

# The year, then month and day with their 年/月 possibly lost: 2021年9月30日, 2021930日,
# 2021年930日, 2021 9 30日. A lone run of digits is never a date: it must end in 日 or 号.
_FULL = re.compile(
    r"(?<![\dxX〔\[［【(（])(?P<year>(?:19|20)\d\d)\s*(?P<y>年?)\s*"
    r"(?P<rest>\d{1,4}(?:\s*月\s*\d{1,2})?)\s*(?:日|号)"
)
# Month and day without a year: 9月30日.
_MONTH_DAY = re.compile(r"(?<![\d年])(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*(?:日|号)")
# The end of a month: 2021年9月底, 9月底前, 9月末.
_MONTH_END = re.compile(
    r"(?:(?P<year>(?:19|20)\d\d)\s*年\s*)?(?<!\d)(?P<month>\d{1,2})\s*月\s*(?:底|末|份?之前)"
)
# A date in Chinese numerals, as signatures write it: 二○○九年五月一日, 二〇二一年九月三十日
# (the zero typed as ○, 〇, 零, or the letter O).
_DIGIT = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0, "O": 0, "0": 0}
_CHINESE = re.compile(
    r"(?P<year>[〇○零O0一二三四五六七八九]{4})\s*年\s*(?P<month>[一二三四五六七八九十]{1,2})\s*月"
    r"\s*(?P<day>[一二三四五六七八九十]{1,3})\s*日"
)


def _small(numeral: str) -> int:
    """一 … 三十一, as months and days are written."""
    if "十" not in numeral:
        return _DIGIT[numeral]
    tens, _, units = numeral.partition("十")
    return (_DIGIT[tens] if tens else 1) * 10 + (_DIGIT[units] if units else 0)


@dataclass(frozen=True)
class FoundDate:
    value: date
    text: str  # as the notice writes it
    start: int  # where in the text
    end: int
    # Why the coordinator should look at it, or None when the notice wrote it out in full.
    doubt: str | None = None
    readings: tuple[date, ...] = ()  # every possible day, when characters were lost


def find_dates(text: str, year: int | None = None) -> list[FoundDate]:
    """Every date in `text`, in order. `year` is the notice's year, for dates written
    without one (9月30日); without it such dates are left out."""
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []

    def overlaps(start: int, end: int) -> bool:
        return any(start < e and s < end for s, e in taken)

    for m in _FULL.finditer(text):
        if m[0].endswith("号") and "月" not in m[0]:
            continue  # 「国市监质202151号」: a document number that lost its brackets
        one = _full_date(m)
        if one is not None:
            found.append(one)
            taken.append((m.start(), m.end()))
    for m in _CHINESE.finditer(text):
        year_value = int("".join(str(_DIGIT[ch]) for ch in m["year"]))
        day = make_date(year_value, _small(m["month"]), _small(m["day"]))
        if day is not None:
            found.append(FoundDate(day, m[0], m.start(), m.end()))
            taken.append((m.start(), m.end()))
    for m in _MONTH_END.finditer(text):
        if overlaps(m.start(), m.end()):
            continue
        y = int(m["year"]) if m["year"] else year
        month = int(m["month"])
        if y is None or not 1 <= month <= 12:
            continue
        day = date(y, month, calendar.monthrange(y, month)[1])
        doubt = f"「{m[0]}」: read as the month's last day"
        if not m["year"]:
            doubt += f", in {y}, the notice's year"
        found.append(FoundDate(day, m[0], m.start(), m.end(), doubt))
        taken.append((m.start(), m.end()))
    if year is not None:
        for m in _MONTH_DAY.finditer(text):
            if overlaps(m.start(), m.end()):
                continue
            read = make_date(year, int(m["month"]), int(m["day"]))
            if read is not None:
                doubt = f"「{m[0]}」 gives no year: read as {year}, the notice's year"
                found.append(FoundDate(read, m[0], m.start(), m.end(), doubt))
    return sorted(found, key=lambda d: d.start)


def _full_date(m: re.Match[str]) -> FoundDate | None:
    year = int(m["year"])
    rest = m["rest"]
    if "月" in rest:
        month_text, day_text = (part.strip() for part in rest.split("月"))
        splits = [(month_text, day_text)]
        lost = not m["y"]
    else:
        digits = rest.replace(" ", "")
        splits = [(digits[:i], digits[i:]) for i in range(1, len(digits)) if i <= 2]
        lost = True
    readings = tuple(
        d
        for d in (make_date(year, int(mo), int(dy)) for mo, dy in splits if len(dy) <= 2)
        if d is not None
    )
    if not readings:
        return None
    # Of several readings the latest: the date is a deadline or a day of the campaign, and
    # 「2021101日」 is far likelier 10月1日 than 1月01日. It is marked either way.
    value = max(readings)
    if not lost:
        return FoundDate(value, m[0], m.start(), m.end())
    if len(readings) == 1:
        doubt = f"recovered from 「{m[0]}」 (characters lost in copying)"
    else:
        options = " or ".join(d.isoformat() for d in readings)
        doubt = f"「{m[0]}」 has lost characters: it could be {options}"
    return FoundDate(value, m[0], m.start(), m.end(), doubt, readings)


def make_date(year: int, month: int, day: int) -> date | None:
    """The day, or None if the calendar has no such day (2021-02-30, month 13)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def written(day: date) -> str:
    """A day as a notice writes it: 2021年9月30日."""
    return f"{day.year}年{day.month}月{day.day}日"
