"""`duban import NOTICE`: a notice (通知) read into a draft campaign file, and `--check`."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from config.clock import local
from config.clock import now as clock_now
from config.notice.draft import NO_CHANNEL, check_draft, render
from config.notice.extract import extract
from config.notice.model import Draft
from config.notice.text import NoticeFileError, read_notice

EXIT_OK, EXIT_BAD_INPUT = 0, 2
DRAFT_SUFFIXES = (".yaml", ".yml")


def run_import(
    notice: Path,
    out: Path | None,
    check: bool,
    force: bool,
    encoding: str | None,
    now: datetime | None,
) -> int:
    if check and notice.suffix.lower() in DRAFT_SUFFIXES:
        return _check_draft(notice)
    try:
        text = read_notice(notice, encoding)
    except NoticeFileError as exc:
        print(f"duban: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    draft = extract(text, local(clock_now(now), "Asia/Shanghai").date())
    if check:
        _print_doubts(draft, notice)
        return EXIT_OK
    target = out or Path(notice.stem + ".yaml")
    content = render(draft, notice.name, text)
    if str(target) == "-":
        sys.stdout.write(content)
        return EXIT_OK
    if target.exists() and not force:
        print(
            f"duban: {target} exists (a draft under review?): give another --out, or --force",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        _write(target, content)
    except OSError as exc:
        print(f"duban: cannot write {target}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with_duties = sum(1 for u in draft.units if u.duties)
    print(f"Draft written: {target}")
    print(f"  notice      {draft.notice_title or '(no title found)'}")
    print(f"  campaign    {draft.title.value or '(no title)'} ({draft.slug})")
    print(f"  departments {len(draft.units)}, {with_duties} with duties of their own")
    print(f"  deadline    {draft.due.value}{' (to check)' if draft.due.doubt else ''}")
    doubts = draft.doubts()
    print(f"  to check    {len(doubts)} value(s) marked CHECK, and a channel for each department")
    print(f"\nNext: edit it, then  duban import --check {target}  and  duban launch {target}")
    return EXIT_OK


def _write(target: Path, content: str) -> None:
    """All or nothing: a draft cut short by a full disk must not look like a whole one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _print_doubts(draft: Draft, notice: Path) -> None:
    print(f"{notice}: {draft.notice_title or '(no title found)'}")
    print(f"  {len(draft.units)} department(s): {'、'.join(u.name for u in draft.units) or 'none'}")
    for doubt in draft.doubts():
        print(f"  to check: {doubt}")
    if draft.units:
        print(f"  missing: a channel for each of the {len(draft.units)} department(s)")
    else:
        print("  missing: the departments: the notice names none")


def _check_draft(path: Path) -> int:
    result = check_draft(path)
    for problem in result.problems:
        where = f"{path}:{problem.line}" if problem.line else str(path)
        field = f"{problem.field}: " if problem.field else ""
        if problem.message.startswith("no channel"):
            print(f"{where}: missing: {field}{NO_CHANNEL}")
        else:
            print(f"{where}: stops the launch: {field}{problem.message}")
    for line, mark in result.marks:
        print(f"{path}:{line}: to check: {mark}")
    if result.problems:
        print(f"\n{len(result.problems)} problem(s) stop the launch; {len(result.marks)} mark(s).")
        return EXIT_BAD_INPUT
    print(f"\n{path} is a valid campaign file", end="")
    print(f"; {len(result.marks)} CHECK mark(s) left." if result.marks else ": nothing marked.")
    return EXIT_OK
