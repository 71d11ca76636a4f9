"""The outline of an official notice: the opening (title, salutation, preamble), the numbered
parts 一、二、… with their items (一)(二)…, and the closing (signature, date).

Copying loses numerals and brackets, 「()高度重视」, so an item is recognised by its bracket
pair even when the numeral is gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUMERAL = "一二三四五六七八九十"
_PART = re.compile(rf"^([{_NUMERAL}]{{1,3}})\s*[、.．]\s*(.*)$")
# (一) or, where copying lost the numeral, (); also 1. 1、 (1) in notices that number so.
_ITEM = re.compile(
    rf"^(?:\(\s*([{_NUMERAL}]{{0,3}}|\d{{1,2}})\s*\)|(\d{{1,2}})\s*[.、．](?!\d))\s*(.*)$"
)


@dataclass
class Item:
    number: str  # 一, 二, … ("" when copying lost it)
    text: str  # the item's first line
    more: list[str] = field(default_factory=list)  # its following lines

    @property
    def full(self) -> str:
        return "".join([self.text, *self.more])


@dataclass
class Part:
    number: str
    heading: str
    intro: list[str] = field(default_factory=list)  # lines before the first item
    items: list[Item] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # lines after the items, unnumbered

    @property
    def lines(self) -> list[str]:
        return [*self.intro, *(i.full for i in self.items), *self.after]


@dataclass
class Outline:
    opening: list[str]  # non-empty lines before the first part
    parts: list[Part]


# Where a flattened line starts a new part or item: 「…方案。一、总体要求…」, 「…发展。三、活动
# 时间…」, 「…内容1.开办…」, 「…安排(一)采取…」. A part's numeral follows the end of a sentence
# (「统一、规范」 is no part); an item's number stands before a Chinese character; a title
# ends before the salutation that follows it.
_BREAK = re.compile(
    rf"(?<=[。；;:：!！?？])\s*(?=[{_NUMERAL}]{{1,3}}\s*、\s*[\u4e00-\u9fff])"
    rf"|(?<=[。；;:：\u4e00-\u9fff])\s*(?=\(\s*[{_NUMERAL}]{{1,3}}\s*\)\s*[\u4e00-\u9fff])"
    r"|(?<=[。；;:：\u4e00-\u9fff])\s*(?=\d{1,2}\s*[.、．]\s*[\u4e00-\u9fff])(?<!\d)"
    # the title's end, when the salutation runs on after it: 「…的通知各市、县…:」
    r"|(?<=的通知)(?=[^》”\"()\s,，。])"
)
FLATTENED = 80  # a line this long may hold several paragraphs run together


# Characters spaced out to fill a line, as signatures and labels are aligned: 「常 州 市 文 明
# 办」, 「联 系 人」; two columns of them run together, 「商 务 部国 资 委」. Three or more
# pieces of one or two characters with single spaces between.
_SPACED = re.compile(
    r"(?<![\u4e00-\u9fff])(?:[\u4e00-\u9fff]{1,2} ){2,}[\u4e00-\u9fff]{1,2}(?![\u4e00-\u9fff])"
)


def reflow(text: str) -> str:
    """The notice with each part and item on a line of its own, however copying laid it out:
    only long lines are cut, and only where an outline number starts. Spaced-out characters
    are joined."""
    lines = (_SPACED.sub(lambda m: m[0].replace(" ", ""), line) for line in text.split("\n"))
    return "\n".join(_BREAK.sub("\n", line) if len(line) > FLATTENED else line for line in lines)


def outline(text: str) -> Outline:
    lines = [line for line in text.split("\n") if line]
    opening: list[str] = []
    parts: list[Part] = []
    for line in lines:
        part = _PART.match(line)
        # A part's heading is short; a long line starting 一、 is a sentence in the preamble.
        if part and len(part[2]) <= 40:
            parts.append(Part(part[1], part[2].strip()))
            continue
        if not parts:
            opening.append(line)
            continue
        current = parts[-1]
        item = _ITEM.match(line)
        if item:
            current.items.append(Item(item[1] or item[2] or "", item[3].strip()))
        elif current.items and not current.after and not _closing(line):
            current.items[-1].more.append(line)
        elif current.items:
            current.after.append(line)
        else:
            current.intro.append(line)
    return Outline(opening, parts)


def _closing(line: str) -> bool:
    """A paragraph that ends the notice rather than continuing an item."""
    return bool(re.match(r"^(?:附件|活动结束|请于|请各|各有关|有关活动|联系人|联系电话)", line))


def find_part(parts: list[Part], *words: str) -> Part | None:
    """The first part whose heading holds one of `words`."""
    for part in parts:
        if any(w in part.heading for w in words):
            return part
    return None


def first_sentence(text: str) -> str:
    """Up to and with the first 。 (or the whole text)."""
    end = text.find("。")
    return text if end < 0 else text[: end + 1]


def sentences(text: str) -> list[str]:
    """Sentences ended by 。 or ；, each with its stop."""
    return [s.strip() for s in re.findall(r"[^。；;]+(?:[。；;]|$)", text) if s.strip(" 。；;")]
