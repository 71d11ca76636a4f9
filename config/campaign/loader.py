"""Reading a campaign file: YAML in, a validated `Campaign` out, or every problem with its line.

Errors name the file, the line and the field (`datian.yaml:42: departments[3].notify[0]: …`)
so that a coordinator can fix the file without reading a traceback. Nothing is written here.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.campaign.schema import TAG_RE, Campaign
from config.campaign.sms_check import sms_problems
from config.campaign.typos import find_slip
from config.campaign.yaml_lines import Loc, Problem, TextLoader, dotted, duplicate_keys, line_of
from config.files import MiB, TooLarge, read_capped
from config.plain_text import control_char
from config.yaml_files import UnsafeYaml, check_shape

# 50,000 departments with a duty each are 5.4 MiB (bench/launch.py's file): twelve times room.
MAX_BYTES = 64 * MiB


class CampaignFileError(ValueError):
    """One or more problems in a campaign file; `str()` lists them one per line."""

    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = str(path)
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = []
        for p in self.problems:
            where = f"{self.path}:{p.line}" if p.line else self.path
            lines.append(f"{where}: {p.field}: {p.message}" if p.field else f"{where}: {p.message}")
        return "\n".join(lines)


@dataclass
class CampaignFile:
    """A validated campaign and the line of each top-level key, for errors found later (the
    deadline checked against the database). The node tree itself is not kept: for 50,000
    departments it is half a million objects that the garbage collector would keep rescanning."""

    path: Path
    campaign: Campaign
    top_lines: dict[str, int] = field(repr=False)

    def line_of(self, loc: Loc) -> int | None:
        return self.top_lines.get(str(loc[0])) if loc else None

    def error(self, loc: Loc, message: str) -> CampaignFileError:
        return CampaignFileError(self.path, [Problem(self.line_of(loc), dotted(loc), message)])


# `duban launch` checks the file before Prefect starts; then the flow's first task loads it
# (the flow also runs from a deployment, without the command, so it reads the file itself).
# Validating 50,000 departments costs 2.5 s of CPU; comparing the file's bytes with the ones
# validated costs a few milliseconds. So the command keeps what it validated (`keep=True`),
# and the next read of the same path takes it when the bytes are the same. Kept for that one
# read: nothing holds a large campaign once its launch has it.
_kept: tuple[Path, bytes, CampaignFile] | None = None


def load_campaign_file(path: Path | str, keep: bool = False) -> CampaignFile:
    """The file read and validated; or, if the command kept this very file (same path, same
    bytes) a moment ago, what it validated."""
    global _kept
    path = Path(path)
    try:
        raw = read_capped(path, MAX_BYTES)
    except FileNotFoundError:
        raise CampaignFileError(path, [Problem(None, "", "找不到这个文件")]) from None
    except IsADirectoryError:
        raise CampaignFileError(path, [Problem(None, "", "这是文件夹，不是文件")]) from None
    except OSError as exc:
        unreadable = Problem(None, "", f"无法读取（{exc.strerror}）")
        raise CampaignFileError(path, [unreadable]) from None
    except TooLarge as exc:
        refusal = exc.refusal("a campaign file")
        raise CampaignFileError(path, [Problem(None, "", refusal)]) from None
    kept, _kept = _kept, None
    if kept is not None and kept[0] == path and kept[1] == raw:
        return kept[2]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CampaignFileError(
            path, [Problem(None, "", f"不是 UTF-8 编码的文本（{exc.reason}），请另存为 UTF-8")]
        ) from None
    loaded = parse_campaign(text, path)
    if keep:
        _kept = (path, raw, loaded)
    return loaded


def parse_campaign(text: str, path: Path | str = "<campaign>") -> CampaignFile:
    path = Path(path)
    # The node tree of a large file is hundreds of thousands of objects without cycles; the
    # cyclic collector rescanning it again and again made loading superlinear (11 s instead
    # of 3 s for 50,000 departments). Reference counting frees the tree on return.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, path)
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse(text: str, path: Path) -> CampaignFile:
    try:
        # Before anything is built or walked: an alias bomb or deep nesting never gets there.
        check_shape(text)
    except UnsafeYaml as exc:
        raise CampaignFileError(path, [Problem(exc.line, "", str(exc))]) from None
    except yaml.YAMLError as exc:
        raise _malformed(path, exc, text) from None
    loader = TextLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise CampaignFileError(path, [Problem(1, "", "文件是空的")])
        problems = duplicate_keys(root)
        if problems:
            raise CampaignFileError(path, problems)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise _malformed(path, exc, text) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise CampaignFileError(path, [Problem(1, "", "应为“键: 值”的列表（slug: …）")])
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        problems = _schema_problems(root, exc, _unit_names(data))
        # A slip that still parsed (`-code: kjj` is a string, not an entry) is the cause.
        slip = find_slip(text, None)
        if slip is not None:
            problems.insert(0, Problem(slip.line, "", slip.message))
        raise CampaignFileError(path, problems) from None
    problems = _cross_checks(campaign, root)
    if problems:
        raise CampaignFileError(path, problems)
    assert isinstance(root, yaml.MappingNode)
    top_lines = {str(key.value): key.start_mark.line + 1 for key, _ in root.value}
    return CampaignFile(path, campaign, top_lines)


def _malformed(path: Path, exc: yaml.YAMLError, text: str) -> CampaignFileError:
    """Where the parser stopped, or, when a known slip comes before it, the slip itself."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else None
    slip = find_slip(text, line)
    if slip is not None:
        return CampaignFileError(path, [Problem(slip.line, "", slip.message)])
    reason = getattr(exc, "problem", None) or str(exc)
    message = f"YAML 格式有误（解析器提示：{reason}）；常见原因：括号、引号没有配对，或缩进不齐"
    return CampaignFileError(path, [Problem(line, "", message)])


def _unit_names(data: Any) -> list[str | None]:
    """Each department entry's name as written, to name it in errors."""
    entries = data.get("departments") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    names = [str(e["name"]) if isinstance(e, dict) and e.get("name") else None for e in entries]
    # A name the schema refuses (a control character in it) is not repeated in its error.
    return [n if n and control_char(n) is None and len(n) <= 60 else None for n in names]


# A `notify: []` (every draft `duban import` writes has them until they are filled).
NOTIFY_EMPTY = "没有接收渠道：请至少填写一个电子邮箱、Apprise 地址或渠道名"
# What the schema's checks say, in the coordinator's words (pydantic's own are English).
SCHEMA_WORDS = {
    "missing": "缺少必填项",
    "list_type": "应为列表：每项另起一行，以「- 」开头（短横线后加空格），或写成 [甲, 乙]",
    "dict_type": "应为“键: 值”形式的若干行",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "date_type": "不是日期：请写成 2021-09-30",
    "date_parsing": "不是有效的日期：请写成 2021-09-30",
    "date_from_datetime_parsing": "不是有效的日期：请写成 2021-09-30",
    "datetime_parsing": "不是有效的日期时间：请写成 2021-09-30T17:00",
    "time_parsing": '不是有效的时刻：请写成 "17:30"',
    "string_pattern_mismatch": "写法不对",
    "string_too_short": "不能为空",
    "string_too_long": "太长",
    "too_short": "至少要有一项",
    "too_long": "项数太多",
    "greater_than_equal": "太小：应不小于{ge}",
    "less_than_equal": "太大：应不大于{le}",
    "greater_than": "太小：应大于{gt}",
    "less_than": "太大：应小于{lt}",
    "literal_error": "不是可选的值之一",
}


def _schema_message(err: Any, loc: Loc) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"不认识的键「{loc[-1]}」（拼写错误？）"
    if kind == "too_short" and loc and loc[-1] == "notify":
        return NOTIFY_EMPTY
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    message = SCHEMA_WORDS.get(kind, err["msg"])
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        message = message.format(**err.get("ctx", {}))
    if loc == ("slug",) and kind == "string_pattern_mismatch":
        message += "：只能用小写字母、数字和短横线，以字母开头（如 datian-2021）"
    elif kind == "string_pattern_mismatch":
        message += f"（应符合 {err.get('ctx', {}).get('pattern', '')}）"
    if kind == "literal_error":
        message += f"（可选：{err.get('ctx', {}).get('expected', '')}）"
    given = err.get("input")
    if kind != "missing" and isinstance(given, str | int | float):
        return f"「{given}」{message}"
    return message


def _schema_problems(
    root: yaml.Node, exc: ValidationError, units: list[str | None]
) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(err["loc"])
        # Unions report one error per member; the first member's loc part is noise.
        loc = tuple(part for part in loc if part not in {"date", "datetime"})
        problem = Problem(line_of(root, loc), dotted(loc, units), _schema_message(err, loc))
        # A union (`due: date | datetime`) reports once per member: keep one per field.
        if all((p.line, p.field) != (problem.line, problem.field) for p in problems):
            problems.append(problem)
    return sorted(problems, key=lambda p: p.line or 0)


def _cross_checks(campaign: Campaign, root: yaml.Node) -> list[Problem]:
    problems = []
    units: list[str | None] = [d.name for d in campaign.departments]
    first_seen: dict[str, int] = {}
    for i, dept in enumerate(campaign.departments):
        if dept.code in first_seen:
            loc: Loc = ("departments", i, "code")
            first = line_of(root, ("departments", first_seen[dept.code], "code"))
            message = f"单位代码「{dept.code}」重复（第{first}行已用过）"
            problems.append(Problem(line_of(root, loc), dotted(loc, units), message))
        else:
            first_seen[dept.code] = i
    for loc, entries in _notify_lists(campaign):
        for j, entry in enumerate(entries):
            if TAG_RE.match(entry) and entry not in campaign.channels:
                at = (*loc, j)
                problem = Problem(line_of(root, at), dotted(at, units), _unknown_tag(entry))
                problems.append(problem)
    for loc, message in sms_problems(campaign):
        problems.append(Problem(line_of(root, loc), dotted(loc, units), message))
    if campaign.period and campaign.period.end < campaign.period.start:
        loc = ("period", "end")
        problems.append(Problem(line_of(root, loc), dotted(loc), "活动结束日期早于开始日期"))
    return sorted(problems, key=lambda p: p.line or 0)


def _notify_lists(campaign: Campaign) -> list[tuple[Loc, list[str]]]:
    """Every `notify` list in the file, with where it stands."""
    lists: list[tuple[Loc, list[str]]] = []
    for key in ("coordinator", "leaders"):
        contact = getattr(campaign, key)
        if contact is not None:
            lists.append(((key, "notify"), contact.notify))
    for i, dept in enumerate(campaign.departments):
        lists.append((("departments", i, "notify"), dept.notify))
        if dept.head is not None:
            lists.append((("departments", i, "head", "notify"), dept.head.notify))
    return lists


def _unknown_tag(tag: str) -> str:
    return f"「{tag}」既不是电子邮箱或 Apprise 地址，也不是 `channels` 下定义的渠道名"
