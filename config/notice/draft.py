"""The draft campaign file: what `extract` read, as YAML a coordinator reviews and launches.

Every value the notice did not state plainly carries a `# CHECK:` comment on the line above it,
and so does every value the draft needs but the notice does not give (a department's channel).
`check_draft` lists what is still missing or marked, with lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from config.campaign.loader import MAX_BYTES, CampaignFileError, load_campaign_file
from config.campaign.yaml_lines import Problem
from config.files import TooLarge, read_capped
from config.notice.model import Draft, DraftUnit, Found
from config.notice.text import NoticeText

MARK = "# CHECK:"
NO_CHANNEL = "no channel yet: an e-mail address, an Apprise URL or a name under `channels`"


def render(draft: Draft, source: str, notice: NoticeText) -> str:
    out = _Writer()
    read_as = {"docx": "a Word document", "pdf": "a PDF's text layer"}.get(
        notice.encoding, f"{notice.encoding} text"
    )
    if notice.traditional:
        read_as += ", converted from traditional characters"
    out.comment(f"Draft campaign file, read by `duban import` from {source} ({read_as}).")
    out.comment(f"Notice: {draft.notice_title or 'no title found'}")
    if draft.noise:
        out.comment(f"Taken off the page before reading: {'; '.join(draft.noise)}.")
    out.comment("Review every line marked CHECK and give each department a channel (notify).")
    out.comment(
        "`duban import --check FILE` lists what is still missing; then `duban launch FILE`."
    )
    out.comment("Department codes were made from the names; links and reports use them, so")
    out.comment("settle them before the launch.")
    out.blank()
    out.value(
        "slug", draft.slug, note="made from the title; names the campaign in commands and links"
    )
    out.found("title", draft.title)
    out.found("lead_office", draft.lead_office)
    number = draft.document_number
    if number.value is None and draft.cited_numbers:
        number = Found(None, f"{number.doubt}; it cites {'、'.join(draft.cited_numbers)}")
    out.found("document_number", number)
    out.blank()
    if draft.lead_office.value:
        out.line("coordinator:")
        out.value("name", draft.lead_office.value, indent=1)
        out.line("  notify: []  # the office's own address: where reports and answers go")
        out.blank()
        group = re.sub(r"办公室$", "", draft.lead_office.value)
        if group != draft.lead_office.value:
            out.comment("Told when a unit is still missing after the last reminder (optional):")
            out.comment("leaders:")
            out.comment(f"  name: {group}")
            out.comment("  notify: []")
            out.blank()
    out.found("theme", draft.theme)
    period = draft.period
    if period.value is None:
        out.found("period", period)
    else:
        out.mark(period.doubt)
        out.line("period:")
        out.line(f"  start: {period.value[0].isoformat()}")
        out.line(f"  end: {period.value[1].isoformat()}")
    out.found("due", draft.due, note="the deadline: the end of that day")
    out.line("timezone: Asia/Shanghai")
    out.blank()
    out.found("guidance", draft.guidance)
    out.blank()
    if draft.common_duties:
        out.comment(f"What every department does ({draft.common_source}).")
        out.line("common_duties:")
        for duty in draft.common_duties:
            out.item(duty, indent=1)
        out.blank()
    _requirements(out, draft)
    _departments(out, draft)
    return out.text()


def _requirements(out: _Writer, draft: Draft) -> None:
    asked = draft.requirements
    out.mark(asked.doubt)
    out.line("requirements:")
    if asked.value is not None:
        for key in ("summary", "paper_copy", "pictures", "video"):
            out.line(f"  {key}: {'true' if getattr(asked.value, key) else 'false'}")
        if asked.value.note:
            out.value("note", asked.value.note, indent=1)
    out.blank()


def _departments(out: _Writer, draft: Draft) -> None:
    described = "、".join(draft.duty_parts)
    out.comment(
        "The units the notice addresses, in its order"
        + (f"; `duties` are those of part {described}." if described else ".")
    )
    if draft.groups:
        out.comment(
            f"It also addresses {'、'.join(draft.groups)}: groups, not units; "
            "list by name any that must report."
        )
    if not draft.units:
        out.mark("the notice names no unit: list the departments that must report")
        out.line("departments: []")
        return
    out.line("departments:")
    for unit in draft.units:
        _unit(out, unit)


def _unit(out: _Writer, unit: DraftUnit) -> None:
    out.blank()
    out.mark(unit.doubt, indent=1)
    out.value("- code", unit.code, indent=1)
    out.value("name", unit.name, indent=2)
    # Not a CHECK mark: the schema itself reports a missing channel, until one is given.
    out.line(f"    notify: []  # {NO_CHANNEL}")
    if unit.duties:
        out.line(f"    duties:   # {_one_line('; '.join(unit.duty_from))}")
        for duty in unit.duties:
            out.item(duty, indent=3)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def text(self) -> str:
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    def line(self, text: str) -> None:
        self.lines.append(text)

    def blank(self) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def comment(self, text: str, raw: bool = False) -> None:
        self.lines.append(("#" + _one_line(text)) if raw else f"# {_one_line(text)}")

    def mark(self, doubt: str | None, indent: int = 0) -> None:
        if doubt:
            self.lines.append(f"{'  ' * indent}{MARK} {_one_line(doubt)}")

    def value(self, key: str, value: Any, indent: int = 0, note: str | None = None) -> None:
        tail = f"  # {note}" if note else ""
        self.lines.append(f"{'  ' * indent}{key}: {scalar(value)}{tail}")

    def item(self, value: Any, indent: int) -> None:
        self.lines.append(f"{'  ' * indent}- {scalar(value)}")

    def found(self, key: str, found: Found[Any], note: str | None = None) -> None:
        """The value with its mark above it, and where the notice gives it (二、活动主题)."""
        self.mark(found.doubt)
        if found.value is None:
            self.lines.append(f"# {key}:")
        else:
            where = f"from {found.source}" if found.source and not found.doubt else None
            self.value(key, found.value, note="; ".join(n for n in (note, where) if n) or None)


def scalar(value: Any) -> str:
    """One YAML scalar on one line, quoted only when YAML needs it."""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    dumped = yaml.safe_dump(value, allow_unicode=True, width=1_000_000, default_flow_style=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _one_line(text: str) -> str:
    """A comment stays one line: whatever breaks a line in YAML's eyes becomes a space."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]", " ", text).split())


@dataclass(frozen=True)
class DraftCheck:
    problems: list[Problem]  # what stops the launch, with lines
    marks: list[tuple[int, str]]  # CHECK comments still in the file


def check_draft(path: Path) -> DraftCheck:
    """The schema's problems with a draft (a channel missing, a key mistyped) and the CHECK
    marks the coordinator has not yet cleared."""
    try:
        lines = read_capped(path, MAX_BYTES).decode("utf-8-sig").splitlines()
    except (OSError, TooLarge, UnicodeDecodeError):
        lines = []  # the load below says why
    marks = [(n, line.split(MARK, 1)[1].strip()) for n, line in enumerate(lines, 1) if MARK in line]
    try:
        load_campaign_file(path)
    except CampaignFileError as exc:
        return DraftCheck(exc.problems, marks)
    return DraftCheck([], marks)
