"""A notice's own document number (发文字号, 闽质强省办〔2021〕4号) and the numbers it cites.

The own number stands where GB/T 9704 puts it, on a line of its own above the salutation, or
where copying moves it: in brackets under the title 「(科协普发综字[2007]57号)」, before the
title on the same line 「京政办发〔2016〕26号《…》」, in brackets after the title repeated at the
end, or only in the portal's 文号 field. A number in a sentence is a citation 「根据…(国市监质
〔2021〕51号)」, never the notice's own.
"""

from __future__ import annotations

import re

from config.notice.model import Found
from config.notice.patterns import CITING, DOC_NUMBER

# A heading line that is a number, bracketed or not, or a number before the title.
_ALONE = re.compile(r"^[(（]?\s*(?P<number>.+?号)\s*[)）]?\s*(?:[《“\"]?关于.*|《.*)?$")
# The title with its number after it on its line: 「关于公布…的通知 常文广旅〔2019〕104号」.
_AFTER_TITLE = re.compile(r"^.*(?:通知|方案|意见|决定|函)》?\s*(?P<number>[^《》]+?号)$")
# A number that lost its closing bracket and 号 in copying: 「赣市府办字〔2015118」.
_LOST = re.compile(
    r"^(?P<org>[\u4e00-\u9fff]{2,12})[〔\[［【(（](?P<year>(?:19|20)\d\d)(?P<no>\d{1,4})$"
)


def document_number(
    heading: list[str], title: str | None, text: str, portal: str | None
) -> Found[str]:
    """The notice's own number: from the heading, after the title repeated, or the page's
    文号 field. `heading` is the opening above the salutation."""
    for line in heading:
        found = _own(line.replace(" ", ""))
        if found is not None:
            return found
    if title:  # 「…的通知(市强市办〔2021〕2号)」 at the end, after the signature
        repeated = re.escape(title.replace(" ", "")) + r"\s*[)）》]?\s*[(（]"
        for at in re.finditer(repeated, text):
            found = _own(text[at.end() - 1 : at.end() + 40].split("\n")[0])
            if found is not None:
                return Found(found.value, found.doubt, source="after the title at the end")
    field = DOC_NUMBER.fullmatch(portal.replace(" ", "")) if portal else None
    if field is not None:
        return Found(_number(field), source=f"the page's 文号 field: 「{portal}」")
    return Found(None, "the notice prints no number of its own")


def _own(line: str) -> Found[str] | None:
    lost = _LOST.match(line)
    if lost is not None:
        number = f"{lost['org']}〔{lost['year']}〕{int(lost['no'])}号"
        return Found(number, f"recovered from 「{line}」 (its bracket and 号 were lost)", line)
    m = next(
        (
            DOC_NUMBER.fullmatch(found["number"])
            for found in (_ALONE.match(line), _AFTER_TITLE.match(line))
            if found is not None
            and len(found["number"]) <= 30
            and DOC_NUMBER.fullmatch(found["number"])
        ),
        None,
    )
    if m is None or CITING.match(m["org"] + "〔"):
        return None
    doubt = None if m["close"] else f"recovered from 「{m[0]}」 (a bracket was lost)"
    return Found(_number(m), doubt, source=f"the heading: 「{line}」")


def _printed(line: str) -> re.Match[str] | None:
    """The number a heading line prints: alone, before the title, or after it."""
    for shape in (_ALONE, _AFTER_TITLE):
        found = shape.match(line)
        if found is not None and len(found["number"]) <= 30:
            number = DOC_NUMBER.fullmatch(found["number"])
            if number is not None:
                return number
    return None


def cited_numbers(text: str) -> list[str]:
    """Numbers of the documents a notice cites (its higher levels' notices)."""
    return list(dict.fromkeys(_number(m) for m in DOC_NUMBER.finditer(text)))


def _number(m: re.Match[str]) -> str:
    org = CITING.sub("", re.sub(r"^.*?[(（《》]", "", m["org"])) or m["org"]
    return f"{org}〔{m['year']}〕{int(m['no'])}号"
