"""Reading a campaign file: YAML in, a validated `Campaign` out, or every problem with its line.

Errors name the file, the line and the field (`datian.yaml:42: departments[3].notify[0]: …`)
so that a coordinator can fix the file without reading a traceback. Nothing is written here.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from config.campaign.schema import TAG_RE, Campaign
from config.campaign.sms_check import sms_problems
from config.campaign.yaml_lines import Loc, Problem, TextLoader, dotted, duplicate_keys, line_of
from config.files import MiB, TooLarge, read_capped
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
        raise CampaignFileError(path, [Problem(None, "", "file not found")]) from None
    except IsADirectoryError:
        raise CampaignFileError(path, [Problem(None, "", "is a folder, not a file")]) from None
    except OSError as exc:
        unreadable = Problem(None, "", f"cannot be read: {exc.strerror}")
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
            path, [Problem(None, "", f"not UTF-8 text ({exc.reason})")]
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
        raise _malformed(path, exc) from None
    loader = TextLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise CampaignFileError(path, [Problem(1, "", "the file is empty")])
        problems = duplicate_keys(root)
        if problems:
            raise CampaignFileError(path, problems)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise _malformed(path, exc) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise CampaignFileError(path, [Problem(1, "", "expected a mapping of keys (slug: …)")])
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        raise CampaignFileError(path, _schema_problems(root, exc)) from None
    problems = _cross_checks(campaign, root)
    if problems:
        raise CampaignFileError(path, problems)
    assert isinstance(root, yaml.MappingNode)
    top_lines = {str(key.value): key.start_mark.line + 1 for key, _ in root.value}
    return CampaignFile(path, campaign, top_lines)


def _malformed(path: Path, exc: yaml.YAMLError) -> CampaignFileError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark else None
    reason = getattr(exc, "problem", None) or str(exc)
    return CampaignFileError(path, [Problem(line, "", f"malformed YAML: {reason}")])


def _schema_problems(root: yaml.Node, exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(err["loc"])
        # Unions report one error per member; the first member's loc part is noise.
        loc = tuple(part for part in loc if part not in {"date", "datetime"})
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required key is missing"
        elif err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif err["type"] == "too_short" and loc[-1] == "notify":
            message = "no channel: give at least one e-mail address, Apprise URL or channel name"
        elif err["type"] != "value_error" and isinstance(err.get("input"), str | int | float):
            message = f"{err['input']!r}: {message}"
        problem = Problem(line_of(root, loc), dotted(loc), message)
        # A union (`due: date | datetime`) reports once per member: keep one per field.
        if all((p.line, p.field) != (problem.line, problem.field) for p in problems):
            problems.append(problem)
    return sorted(problems, key=lambda p: p.line or 0)


def _cross_checks(campaign: Campaign, root: yaml.Node) -> list[Problem]:
    problems = []
    first_seen: dict[str, int] = {}
    for i, dept in enumerate(campaign.departments):
        if dept.code in first_seen:
            loc: Loc = ("departments", i, "code")
            first = line_of(root, ("departments", first_seen[dept.code], "code"))
            message = f"duplicate department code {dept.code!r} (first used on line {first})"
            problems.append(Problem(line_of(root, loc), dotted(loc), message))
        else:
            first_seen[dept.code] = i
    for loc, entries in _notify_lists(campaign):
        for j, entry in enumerate(entries):
            if TAG_RE.match(entry) and entry not in campaign.channels:
                at = (*loc, j)
                problems.append(Problem(line_of(root, at), dotted(at), _unknown_tag(entry)))
    for loc, message in sms_problems(campaign):
        problems.append(Problem(line_of(root, loc), dotted(loc), message))
    if campaign.period and campaign.period.end < campaign.period.start:
        loc = ("period", "end")
        problems.append(
            Problem(line_of(root, loc), dotted(loc), "the period ends before it starts")
        )
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
    return f"{tag!r} is not an e-mail address or Apprise URL, nor a name under `channels`"
