"""A message cut to the size a chat platform takes, keeping what the reader must see.

WeCom's group bot refuses a text over 2,048 bytes (about 680 Chinese characters); a notice with
nine common duties is over it. Refused, the unit is never told; cut at the byte limit, the
unit loses the link and the deadline, which come last. So a long message is cut in its
middle: the opening paragraph (who is addressed, what for) and the closing paragraphs from
the one holding the link on (link, contact, office, date) are kept whole; every paragraph in
between keeps its first lines (a heading and its first entry: 报送要求 and its deadline), then
as many more lines as there is room for, in order; a paragraph that lost lines says so.
"""

from __future__ import annotations

ELIDED = "……（详见办理链接）"


def fit(text: str, limit: int) -> str:
    """`text` unchanged if it is within `limit` UTF-8 bytes, else cut as the module says."""
    if _bytes(text) <= limit:
        return text
    paragraphs = [p.split("\n") for p in text.split("\n\n")]
    tail_from = next(
        (i for i, p in enumerate(paragraphs) if any("://" in line for line in p)),
        len(paragraphs),
    )
    head, middle, tail = paragraphs[:1], paragraphs[1:tail_from], paragraphs[tail_from:]
    frame = ["\n".join(p) for p in head + tail]
    # Room for the middle: each paragraph costs its separator and, if cut, the marker.
    budget = limit - _bytes("\n\n".join(frame)) - len(middle) * (2 + _bytes(ELIDED) + 1)
    kept = [0] * len(middle)  # how many leading lines of each middle paragraph are kept
    closed: set[int] = set()
    # First each paragraph's heading and first entry, then the rest, in reading order.
    order = [(i, j) for i, p in enumerate(middle) for j in range(min(2, len(p)))]
    order += [(i, j) for i, p in enumerate(middle) for j in range(2, len(p))]
    for i, j in order:
        cost = _bytes(middle[i][j]) + 1
        if i in closed or j != kept[i]:
            continue
        if cost > budget:
            closed.add(i)  # lines stay in order: nothing after a line left out
            continue
        kept[i] += 1
        budget -= cost
    parts = ["\n".join(p) for p in head]
    for i, lines in enumerate(middle):
        if kept[i]:
            parts.append("\n".join(lines[: kept[i]] + ([ELIDED] if kept[i] < len(lines) else [])))
    parts += ["\n".join(p) for p in tail]
    return _cut(("\n\n".join(parts)), limit)


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, limit: int) -> str:
    """`text` within `limit` bytes at a character boundary: a frame too long to keep whole
    (it should not happen with duban's messages) still goes, rather than being refused."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: max(limit - _bytes("…"), 0)].decode("utf-8", "ignore") + "…"
