"""A unit's headline in the report, as a roundup gives each province one (「广东：…」): the one
the unit wrote on its link page, else the first sentence of its summary, cut cleanly."""

from __future__ import annotations

import re

# Long enough for 「开展质量主题宣传活动12场，发放资料3000余份」, short enough for one line of a
# heading (28 characters a line, less the unit's name).
MAX_CHARS = 30
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_CLAUSE_END = re.compile(r"[，,、：:]")
# Numbering a summary often opens with: 「一、」「1.」「（一）」.
_NUMBERING = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+、|\d+[.、．]|[（(][一二三四五六七八九十\d]+[）)])\s*"
)


def headline(summary: str | None, unit: str, given: str | None = None) -> str:
    """The unit's own headline if it gave one, else its summary's first sentence, without the
    unit's name it follows in the report (「县发改局：县发改局开展…」); a sentence longer than
    MAX_CHARS is cut at the last clause before it, else after MAX_CHARS with 「…」."""
    text = (given or "").strip() or _first_sentence(summary or "")
    text = " ".join(text.split())
    if text.startswith(unit) and len(text) > len(unit) + 1:
        text = text[len(unit) :].lstrip("：:，, ")
    if len(text) <= MAX_CHARS:
        return text
    clauses = [m.start() for m in _CLAUSE_END.finditer(text, 0, MAX_CHARS + 1)]
    if clauses and clauses[-1] >= MAX_CHARS // 2:  # a clause that says something on its own
        return text[: clauses[-1]]
    return text[:MAX_CHARS] + "…"


def _first_sentence(summary: str) -> str:
    for line in summary.strip().splitlines():
        line = _NUMBERING.sub("", line.strip())
        if line:
            return _SENTENCE_END.split(line, 1)[0].strip()
    return ""
