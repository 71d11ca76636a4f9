"""What a department does through its personal link: open it, acknowledge it (签收), submit
its summary with attachments, revise it until the coordinator accepts it.

Reading never writes (mail scanners open links before people do); every change is a POST.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, BinaryIO

from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from models.tables import AssignmentStatus
from tasks.link import storage
from tasks.link.names import kind_of
from tasks.link.policy import AttachmentRefused, Limits
from tasks.link.sniffing import check_all, check_pixels
from tasks.messages.tokens import token_hash

MAX_SUMMARY_CHARS = 50_000
# A headline is a line of a heading: longer than this is a summary, and the report cuts it.
HEADLINE_MAX = 60
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class LinkState(StrEnum):
    OPEN = "open"
    UNKNOWN = "unknown"  # no such link: mistyped, cut short, or never issued
    REVOKED = "revoked"  # the unit was reassigned to another contact
    CLOSED = "closed"  # the campaign is over


@dataclass(frozen=True)
class Unit:
    """A department's assignment as its link page shows it."""

    state: LinkState
    row: dict[str, Any]  # empty unless the link is known (see `models.queries.link._unit_columns`)

    @property
    def assignment_id(self) -> int:
        return int(self.row["assignment_id"])

    @property
    def accepted(self) -> bool:
        return bool(self.row.get("status") == AssignmentStatus.ACCEPTED)


class SubmissionRefused(ValueError):
    """A submission that cannot be taken; the message is shown to the department as is."""


@dataclass(frozen=True)
class Upload:
    """A file as the form delivered it: its name, its first bytes, its declared size, and a
    stream positioned at its start."""

    name: str
    head: bytes
    size: int
    stream: BinaryIO


@dataclass(frozen=True)
class Receipt:
    submission_id: int
    version: int
    created_at: datetime
    late: bool
    repeated: bool  # the same form had already been posted: nothing new was stored


def find_unit(token: str) -> Unit:
    """The unit behind a link. Only the token's hash is looked up, so the database never
    sees the token, and a wrong token finds nothing rather than someone else's unit."""
    if not token or len(token) > 128:
        return Unit(LinkState.UNKNOWN, {})
    with get_engine().connect() as conn:
        row = q.unit_by_token_hash(conn, token_hash(token))
    if row is None:
        return Unit(LinkState.UNKNOWN, {})
    if row["revoked_at"] is not None:
        return Unit(LinkState.REVOKED, row)
    if row["campaign_status"] != "open":
        return Unit(LinkState.CLOSED, row)
    return Unit(LinkState.OPEN, row)


def history(assignment_id: int) -> list[dict[str, Any]]:
    with get_engine().connect() as conn:
        return q.submissions_of(conn, assignment_id)


def acknowledge(unit: Unit, now: datetime | None = None) -> bool:
    """签收. True the first time; acknowledging again changes nothing."""
    with get_engine().begin() as conn:
        return q.acknowledge(conn, unit.assignment_id, clock_now(now))


def check_form(summary: str, uploads: list[Upload], limits: Limits) -> list[str]:
    """Everything that can be checked before anything is written; returns the safe names."""
    if not summary.strip() and not uploads:
        raise SubmissionRefused("请填写总结内容或上传附件后再提交。")
    if len(summary) > MAX_SUMMARY_CHARS:
        raise SubmissionRefused(
            f"总结内容过长（{len(summary)}字），请控制在{MAX_SUMMARY_CHARS}字以内。"
        )
    try:
        names = check_all([(u.name, u.head, u.size) for u in uploads], limits)
        for name, upload in zip(names, uploads, strict=True):
            check_pixels(name, upload.stream)
    except AttachmentRefused as exc:
        raise SubmissionRefused(str(exc)) from exc
    return names


def submit(
    unit: Unit,
    form_key: str,
    summary: str,
    uploads: list[Upload],
    limits: Limits,
    now: datetime | None = None,
    headline: str = "",
) -> Receipt:
    """Store one version of the unit's summary with its files (and its optional headline for
    the report), or nothing at all.

    `form_key` is the random key of the form the department filled in: posting the same form
    again (a double click, a browser retry) returns the first receipt and stores nothing.
    """
    at = clock_now(now)
    if not form_key or len(form_key) > 64:
        raise SubmissionRefused("表单已过期，请刷新页面后重新提交。")
    earlier = _earlier(unit.assignment_id, form_key)
    if earlier is not None:
        return earlier
    if unit.accepted:
        raise SubmissionRefused("贵单位的材料已通过验收，无需再次提交。")
    # Control characters (pasted from other programs) are dropped: PostgreSQL refuses NUL
    # in text, and Word documents cannot carry the others.
    summary = _CONTROL.sub("", summary.replace("\r\n", "\n")).strip()
    # One line, as a heading prints it.
    headline = " ".join(_CONTROL.sub("", headline).split())[:HEADLINE_MAX]
    names = check_form(summary, uploads, limits)
    row = unit.row
    stored: list[storage.StoredFile] = []
    try:
        # Files first, outside the transaction: a slow upload must not hold the write lock.
        for name, upload in zip(names, uploads, strict=True):
            upload.stream.seek(0)
            stored.append(
                storage.store(
                    upload.stream,
                    row["campaign_id"],
                    unit.assignment_id,
                    limits.max_file_bytes,
                    shown_name=name,
                )
            )
        with get_engine().begin() as conn:
            due = q.mark_submitted(conn, unit.assignment_id, at)
            if due is None:
                raise SubmissionRefused("贵单位的材料已通过验收，无需再次提交。")
            late = due < at
            made = q.insert_submission(
                conn,
                {
                    "assignment_id": unit.assignment_id,
                    "form_key": form_key,
                    "summary": summary,
                    "headline": headline or None,
                    "created_at": at,
                    "late": late,
                },
            )
            if made is None:
                raise _Repeated()
            submission_id, version = made
            q.insert_attachments(
                conn,
                [
                    {
                        "submission_id": submission_id,
                        "name": name,
                        "kind": kind_of(name),
                        "size": f.size,
                        "sha256": f.sha256,
                        "relpath": f.relpath,
                    }
                    for name, f in zip(names, stored, strict=True)
                ],
            )
    except _Repeated:
        # The same form won a race with itself: keep its first result, drop these files.
        storage.remove(f.relpath for f in stored)
        repeated = _earlier(unit.assignment_id, form_key)
        assert repeated is not None
        return repeated
    except AttachmentRefused as exc:
        storage.remove(f.relpath for f in stored)
        raise SubmissionRefused(str(exc)) from exc
    except BaseException:
        storage.remove(f.relpath for f in stored)
        raise
    return Receipt(submission_id, version, at, late, repeated=False)


class _Repeated(Exception):
    pass


def _earlier(assignment_id: int, form_key: str) -> Receipt | None:
    with get_engine().connect() as conn:
        found = q.submission_by_form_key(conn, assignment_id, form_key)
    if found is None:
        return None
    return Receipt(found["id"], found["version"], found["created_at"], found["late"], True)
