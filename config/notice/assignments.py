"""Units a notice gives work to outside a 「单位:duties」 entry: 牵头 brackets after a task,
a table's 责任单位 column, 「牵头单位:…」 lines under a task, a request that names them
「请商洛日报社、商洛电视台派记者…」, and the bodies it says the campaign is run with
「…会同县委宣传部、县教育局…等部门共同开展」.

Each is read as (the names, the duty, where): the duty is the task's text before the bracket,
the table row's task, or the request itself. Groups (各有关部门, 各县市区政府) are left out:
only bodies named one by one are units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.notice import units

# A bracket after a task that says who does it: 「(市政府办公室、市审改办牵头,市级各有关部门按
# 职责分工负责)」, 「(省发展改革委、交通运输厅等省有关部门按职责分工负责)」.
_BRACKET = re.compile(
    r"[(（](?P<inner>[^()（）\n]{2,200}?(?:牵头|负责|配合|参与|落实|实施|分工)[^()（）\n]{0,80})[)）]"
)
# What follows the names in a bracket: roles, 等…, the next clause.
_ROLE_WORDS = re.compile(r"牵头|按职责分工|分工|负责|配合|参与|落实|实施|卖力|等.*$|[,，;；]")
# A table's column of units, by its header.
_COLUMN = re.compile(
    r"^(?:责任单位|牵头单位|责任部门|牵头部门|参加单位|配合单位|承办单位|主办单位)$"
)
# 「请商洛日报社、商洛电视台、商洛广播电台派记者报道…」: a request to bodies named one by one.
_REQUEST = re.compile(
    r"请(?P<names>[\u4e00-\u9fff、和及]{2,120}?)"
    r"(?=派|于|做好|负责|按时|认真|组织|结合|积极|及时|安排|参加|将|在|对)"
)


@dataclass(frozen=True)
class Assignment:
    names: list[str]
    duty: str
    where: str  # for the draft: 「(…牵头)」, 「责任单位」, 「请…」


# 「牵头单位:区发改局」, 「责任单位:立山经济开发区,各街道」 under a task.
_LABEL = re.compile(
    r"^(?:牵头|责任|配合|参加|参与|协办|承办)(?:单位|部门)\s*[:：]\s*(?P<names>[^。]{2,200})$"
)
# 「县食安办会同县委宣传部、县农业农村局…等部门共同开展…」: the bodies a campaign is run with.
_WITH = re.compile(
    r"(?:会同|联合)(?P<names>[\u4e00-\u9fff、()（）]{2,300}?)等?(?:\d{1,3}\s*个)?"
    r"(?:部门|单位)?(?:共同|联合)?(?=开展|举办|部署|组织|印发|制定)"
)
# 「由市卫生部门组织…」, 「由xx市计量检定测试所免费提供…」: work given in a sentence.
_BY = re.compile(
    r"由(?P<names>[\u4e00-\u9fffA-Za-z、]{2,60}?)(?=组织|负责|牵头|承办|协办|免费提供|提供)"
)


def assignments(lines: list[str]) -> list[Assignment]:
    return [
        *_brackets(lines),
        *_table(lines),
        *_labels(lines),
        *_requests(lines),
        *_together(lines),
    ]


def _brackets(lines: list[str]) -> list[Assignment]:
    out = []
    for line in lines:
        start = 0
        for m in _BRACKET.finditer(line):
            names = _names(m["inner"])
            if names:
                task = re.sub(
                    r"^\s*(?:\d{1,2}\s*[.、．]|\(\s*[一二三四五六七八九十\d]+\s*\))\s*",
                    "",
                    line[start : m.start()],
                ).strip(" 。;；")
                out.append(Assignment(names, task + "。" if task else "", f"（{m['inner']}）"))
            start = m.end()
    return out


def _names(inner: str) -> list[str]:
    """The bodies a 牵头 bracket names one by one."""
    found: list[str] = []
    for part in re.split(r"[,，;；]", inner):
        head = _ROLE_WORDS.split(part, maxsplit=1)[0]
        for name in units.split_joined(head):
            if units.is_unit(name):
                found.append(name)
    return list(dict.fromkeys(found))


def _table(lines: list[str]) -> list[Assignment]:
    """Rows of a table: copied cell by cell, a line naming bodies only after a 责任单位 header
    is the unit column of the row whose task is the line before; copied with | between
    cells, the cell under the header names the units and the longest other cell is the task."""
    out: list[Assignment] = []
    column: int | None = None  # the header's cell, in a table with | between cells
    in_table = False
    task = ""
    for line in lines:
        cells = [c.replace(" ", "") for c in line.strip().strip("|").split("|")]
        header = [i for i, c in enumerate(cells) if _COLUMN.match(c)]
        if header:
            in_table, column = True, header[0] if len(cells) > 1 else None
            continue
        if not in_table:
            continue
        if column is not None and len(cells) > column:
            names = units.split_names(cells[column])
            duty = max((c for i, c in enumerate(cells) if i != column), key=len, default="")
            if names and duty and all(units.is_unit(n) for n in names):
                out.append(Assignment(names, duty, "责任单位"))
            continue
        cell = "".join(cells)
        if not cell or cell.isdigit():
            continue
        names = units.split_names(cell)
        if all(units.is_unit(n) for n in names):
            if task:
                out.append(Assignment(names, task, "责任单位"))
        else:
            task = line.strip()
    return out


def _labels(lines: list[str]) -> list[Assignment]:
    """Units under a task, one role a line: the task is the last line that is no label."""
    out: list[Assignment] = []
    task = ""
    for line in lines:
        m = _LABEL.match(line.strip())
        if m is None:
            task = line.strip() or task  # blank lines stand between a task and its labels
            continue
        names = [n for n in units.split_joined(m["names"]) if units.is_unit(n)]
        if names:
            out.append(Assignment(names, task, line.strip()))
    return out


def _together(lines: list[str]) -> list[Assignment]:
    """Bodies a campaign is run with: units, with no duty of their own here."""
    out = []
    for line in lines:
        for m in _WITH.finditer(line):
            names = units.split_joined(m["names"])
            if names and all(units.is_unit(units.bare(n)) for n in names):
                out.append(Assignment([units.bare(n) for n in names], "", f"「{m[0]}」"))
    return out


def _requests(lines: list[str]) -> list[Assignment]:
    """Work asked of bodies named in a sentence: 「请…」, 「由…组织」."""
    out = []
    for line in lines:
        for m in [*_REQUEST.finditer(line), *_BY.finditer(line)]:
            names = units.split_joined(m["names"])
            if names and all(units.is_unit(n) for n in names):
                end = line.find("。", m.end())
                duty = line[m.start() : end + 1 if end >= 0 else len(line)]
                out.append(Assignment(names, duty, f"「{m[0]}…」"))
    return out
