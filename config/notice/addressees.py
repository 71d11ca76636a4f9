"""Whom a notice is addressed to: the salutation before the first colon, 「县发改局、县科技局、…,
各有关企业:」, read into the units that report and the addressees that are groups.

A salutation is a list of clauses (split by commas), each a list of names (split by 、). A
clause that starts with 「各…」 addresses a line of work in every place, 「各县(区)人民政府、
管委会」 or 「西宁市、海东地区、各自治州卫生局、宣传部…」: several bodies under each name, so all
its names are groups. So is a clause right after such a one whose names say no place of their
own (「各市、县(区)市场监管局,党委宣传部、发展改革委(局)…」): it goes on naming lines of work
of the same places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.notice import units


@dataclass(frozen=True)
class Salutation:
    names: list[str]  # the units addressed
    groups: list[str]  # addressees that are groups (各有关企业)
    line: int  # the opening's line after it (everything above is the heading)
    text: str | None = None  # as the notice writes it


# A salutation is a list, not a paragraph: past this it is a sentence that ends with a colon.
_LONGEST = 800


def read_salutation(opening: list[str]) -> Salutation:
    """The first line of the opening (joined with the lines it wraps onto) that ends with a
    colon and reads as a list of bodies."""
    for first in range(len(opening)):
        joined, last = opening[first], first
        while joined.endswith(("、", ",", "，", ";", "；")) and last + 1 < len(opening):
            last += 1
            joined += opening[last]
        if not joined.endswith((":", "：")) or len(joined) > _LONGEST:
            continue
        joined = re.sub(r"^(?:尊敬的|致)", "", joined)  # 「尊敬的xx区管委会:」
        read = _addressees(joined[:-1])
        if read is not None:
            found, groups = read
            return Salutation(list(dict.fromkeys(found)), groups, first, joined)
    return _inline(opening)


# A salutation run into the title and the first paragraph: 「…的通知各市、县(区)市场监管局,
# 党委宣传部…:根据…」, or at a line's start with the text going on after its colon.
_INLINE = re.compile(
    r"(?:^|(?<=通知)|(?<=方案)|(?<=意见)|(?<=决定)|(?<=[函》]))(?P<list>[^:：。“”《》]{2,600}?)[:：]"
)


def _inline(opening: list[str]) -> Salutation:
    for i, line in enumerate(opening):
        for m in _INLINE.finditer(line):
            read = _addressees(m["list"])
            if read is not None:
                return Salutation(list(dict.fromkeys(read[0])), read[1], i, m["list"])
    return Salutation([], [], len(opening))


def _addressees(text: str) -> tuple[list[str], list[str]] | None:
    """Units and groups of a salutation, or None when the text is no list of bodies."""
    found: list[str] = []
    groups: list[str] = []
    named = total = 0
    distributed = False  # the clause before addressed every place's line of work
    for clause in units.split_names(text, at=",，;；"):
        names = units.split_names(clause)
        total += len(names)
        known = [n for n in names if units.is_unit(units.bare(n)) or units.is_group(n) or _place(n)]
        named += len(known)
        starts_each = any(n.startswith("各") for n in names[:3])
        placeless = sum(not units.placed(n) for n in names) > len(names) / 2
        if starts_each or (distributed and placeless):
            groups.append(clause)
            distributed = True
            continue
        distributed = False
        for name in names:
            if units.is_group(name):
                groups.append(name)
            elif units.is_unit(units.bare(name)):
                found.append(units.bare(name))
    if not total or named * 2 < total or not (found or groups):
        return None
    return found, groups


def _place(name: str) -> bool:
    """A place alone in a list of addressees: 西宁市, 海东地区."""
    return bool(re.fullmatch(r"[\u4e00-\u9fff]{2,8}(?:省|市|县|区|地区|州|盟|旗)", name))
