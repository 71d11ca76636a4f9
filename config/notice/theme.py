"""A campaign's theme (活动主题), as notices state it.

Under its own heading 「二、活动主题」 on the next line, or on the heading's line when copying
ran them together 「二、活动主题强化安全基础,推动安全发展。三、…」; in a sentence, quoted:
「主题为“…”」, 「以“…”为主题」, 「围绕“…”(的)主题」; or unquoted 「围绕携手建设创新型广东主题开展」.
A quoted theme is taken whole, inner quotation marks and all (「推动“三个转变”,建设质量强国」),
never cut at the first of them.
"""

from __future__ import annotations

import re

from config.notice.model import Found
from config.notice.sections import Outline, find_part
from config.notice.text import tidy

# A quoted span, its quotes balanced: “推动‘三个转变’,建设质量强国” whole.
_QUOTED = r"[“\"](?P<q>[^“”\"\n]{2,60}?(?:[“‘][^”’\n]{1,20}[”’][^“”\"\n]{0,40}?)*)[”\"]"
_SENTENCES = (
    re.compile(rf"主题(?:是|为|确定为|定为)\s*[:：]?\s*{_QUOTED}"),
    re.compile(rf"以\s*{_QUOTED}\s*为(?:活动)?主题"),
    re.compile(
        rf"(?:围绕|突出|紧扣|聚焦)\s*{_QUOTED}\s*(?:的|这一|这个)?\s*[\u4e00-\u9fff]{{0,6}}?主题"
    ),
    re.compile(r"(?:活动)?主题(?:是|为)?\s*[:：]\s*(?P<q>[^“”\"\n。;；]{4,40})[。;；\n]"),
    re.compile(r"围绕(?P<q>[\u4e00-\u9fff、,，\s]{4,24}?)(?:的|这一)?主题(?:开展|进行)"),
)
# A heading that names the theme: 活动主题, 宣传主题, 主题; what may follow it on its line.
_HEADING = re.compile(r"^(?:[\u4e00-\u9fff]{0,4}主题)\s*[:：]?\s*")


def theme(shape: Outline, text: str) -> Found[str]:
    part = find_part(shape.parts, "主题")
    if part is not None:
        where = f"{part.number}、{part.heading}"
        inline = _HEADING.sub("", part.heading, count=1)
        first = inline or (part.lines[0] if part.lines else "")
        said = _in_sentence(first)
        if said:
            return Found(said[0], source=f"{where}: 「{said[1]}」")
        if first and len(first) <= 40:
            return Found(tidy(first.strip('“”"').rstrip("。；;")), source=where)
    said = _in_sentence(text)
    if said:
        return Found(said[0], source=f"「{said[1]}」")
    return Found(None, "the notice states no theme")


def _in_sentence(text: str) -> tuple[str, str] | None:
    """The theme a sentence states, and the words that state it."""
    for pattern in _SENTENCES:
        m = pattern.search(text)
        if m:
            return tidy(m["q"].strip()), tidy(m[0])
    return None
