"""`duban import NOTICE`: a notice (通知) read into a draft campaign file, and `--check`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from cli.exits import EXIT_BAD_INPUT, EXIT_OK, Refused
from config.clock import local
from config.clock import now as clock_now

if TYPE_CHECKING:
    from cli.exits import Commands
    from config.notice.model import Draft

DRAFT_SUFFIXES = (".yaml", ".yml")


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    notice = commands.add_parser(
        "import", parents=[clock], help="read a notice (通知) into a draft campaign file for review"
    )
    notice.add_argument(
        "notice",
        type=Path,
        help="the notice: text (UTF-8, GBK/GB18030), .docx or a PDF with a text layer; "
        "with --check, also a draft (.yaml)",
    )
    notice.add_argument(
        "--out",
        type=Path,
        help="the draft (default: the notice's name with .yaml, here; - prints it)",
    )
    notice.add_argument(
        "--check",
        action="store_true",
        help="print what is missing or marked to check (of a notice, or of a draft); write nothing",
    )
    notice.add_argument(
        "--explain",
        action="store_true",
        help="print, for each value and department, the words of the notice it was read from; "
        "write nothing",
    )
    notice.add_argument("--force", action="store_true", help="replace an existing draft file")
    notice.add_argument("--encoding", help="the notice's encoding, if not UTF-8 or GBK/GB18030")
    notice.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Loaded here, not with the parser: the notice reader takes half a second to import.
    from config.notice.draft import render
    from config.notice.extract import extract
    from config.notice.text import NoticeFileError, read_notice

    notice: Path = args.notice
    if args.check and notice.suffix.lower() in DRAFT_SUFFIXES:
        return _check_draft(notice)
    try:
        text = read_notice(notice, args.encoding)
    except NoticeFileError as exc:
        raise Refused(str(exc)) from exc
    draft = extract(text, local(clock_now(), "Asia/Shanghai").date())
    if args.explain:
        from config.notice.explain import explain

        sys.stdout.write(explain(draft))
        return EXIT_OK
    if args.check:
        _print_doubts(draft, notice)
        return EXIT_OK
    target = args.out or Path(notice.stem + ".yaml")
    content = render(draft, notice.name, text)
    if str(target) == "-":
        sys.stdout.write(content)
        return EXIT_OK
    if target.exists() and not args.force:
        raise Refused(f"{target} exists (a draft under review?): give another --out, or --force")
    try:
        _write(target, content)
    except OSError as exc:
        raise Refused(f"cannot write {target}: {exc}") from exc
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
    from config.campaign.loader import NOTIFY_EMPTY
    from config.notice.draft import NO_CHANNEL, check_draft

    result = check_draft(path)
    for problem in result.problems:
        where = f"{path}:{problem.line}" if problem.line else str(path)
        field = f"{problem.field}: " if problem.field else ""
        if problem.message == NOTIFY_EMPTY:
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
