"""A campaign's slug from its Chinese title: the place and the subject in pinyin, and the year
(大田县2021年“质量月”活动 → datian-quality-month-2021)."""

from __future__ import annotations

import re

from pypinyin import lazy_pinyin

from config.notice import units


def make_slug(title: str, year: int | None) -> str:
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
