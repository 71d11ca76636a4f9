"""The department's link page: the unit found by its token, 签收, submissions and their
attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select, update

from config.clock import to_utc
from models.queries._sql import (
    ASSIGNMENT,
    ATTACHMENT,
    CAMPAIGN,
    DEPARTMENT,
    SUBMISSION,
    TOKEN,
    _insert,
    _utc,
)
from models.tables import AssignmentStatus


def unit_by_token_hash(conn: Connection, hashed: str) -> dict[str, Any] | None:
    """Everything the link page shows, found by the hash of the token in its URL; includes
    `revoked_at` so that a revoked link gets its own page."""
    query = (
        select(
            TOKEN.c.revoked_at,
            *_unit_columns(),
        )
        .join(ASSIGNMENT, ASSIGNMENT.c.id == TOKEN.c.assignment_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .join(CAMPAIGN, CAMPAIGN.c.id == ASSIGNMENT.c.campaign_id)
        .where(TOKEN.c.token_hash == hashed)
    )
    row = conn.execute(query).mappings().first()
    return _utc(dict(row)) if row else None


def unit_by_code(conn: Connection, campaign_id: int, code: str) -> dict[str, Any] | None:
    query = (
        select(*_unit_columns())
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .join(CAMPAIGN, CAMPAIGN.c.id == ASSIGNMENT.c.campaign_id)
        .where(DEPARTMENT.c.campaign_id == campaign_id, DEPARTMENT.c.code == code)
    )
    row = conn.execute(query).mappings().first()
    return _utc(dict(row)) if row else None


def _unit_columns() -> list[Any]:
    return [
        ASSIGNMENT.c.id.label("assignment_id"),
        ASSIGNMENT.c.status,
        ASSIGNMENT.c.due_at,
        ASSIGNMENT.c.acknowledged_at,
        ASSIGNMENT.c.first_submitted_at,
        ASSIGNMENT.c.submitted_at,
        ASSIGNMENT.c.late,
        DEPARTMENT.c.id.label("department_id"),
        DEPARTMENT.c.code,
        DEPARTMENT.c.name,
        DEPARTMENT.c.person,
        DEPARTMENT.c.phone,
        DEPARTMENT.c.notify,
        DEPARTMENT.c.duties,
        DEPARTMENT.c.in_file,
        CAMPAIGN.c.id.label("campaign_id"),
        CAMPAIGN.c.slug,
        CAMPAIGN.c.title,
        CAMPAIGN.c.timezone,
        CAMPAIGN.c.status.label("campaign_status"),
        CAMPAIGN.c.spec,
    ]


def acknowledge(conn: Connection, assignment_id: int, now: datetime) -> bool:
    """签收: the first acknowledgement counts; later ones change nothing."""
    stmt = (
        update(ASSIGNMENT)
        .where(ASSIGNMENT.c.id == assignment_id, ASSIGNMENT.c.acknowledged_at.is_(None))
        .values(
            acknowledged_at=now,
            updated_at=now,
            status=case(
                (ASSIGNMENT.c.status == AssignmentStatus.ASSIGNED, AssignmentStatus.ACKNOWLEDGED),
                else_=ASSIGNMENT.c.status,
            ),
        )
        .returning(ASSIGNMENT.c.id)
    )
    return conn.execute(stmt).first() is not None


def submission_by_form_key(
    conn: Connection, assignment_id: int, form_key: str
) -> dict[str, Any] | None:
    query = select(SUBMISSION).where(
        SUBMISSION.c.assignment_id == assignment_id, SUBMISSION.c.form_key == form_key
    )
    row = conn.execute(query).mappings().first()
    return _utc(dict(row)) if row else None


def mark_submitted(conn: Connection, assignment_id: int, now: datetime) -> datetime | None:
    """The unit has (re)submitted: returns its deadline, or None if its summary was already
    accepted (no more versions). On PostgreSQL the row lock this takes queues concurrent
    submissions of one unit, so their version numbers never collide."""
    first = ASSIGNMENT.c.first_submitted_at
    stmt = (
        update(ASSIGNMENT)
        .where(
            ASSIGNMENT.c.id == assignment_id,
            ASSIGNMENT.c.status != AssignmentStatus.ACCEPTED,
        )
        .values(
            status=AssignmentStatus.SUBMITTED,
            settled=True,
            submitted_at=now,
            first_submitted_at=func.coalesce(first, now),
            late=case((first.is_(None), ASSIGNMENT.c.due_at < now), else_=ASSIGNMENT.c.late),
            acknowledged_at=func.coalesce(ASSIGNMENT.c.acknowledged_at, now),
            updated_at=now,
        )
        .returning(ASSIGNMENT.c.due_at)
    )
    due = conn.execute(stmt).scalar_one_or_none()
    return to_utc(due) if due is not None else None


def insert_submission(conn: Connection, values: dict[str, Any]) -> tuple[int, int] | None:
    """A new version of the unit's summary: (id, version), or None if a submission with the
    same form key exists (the same form posted twice)."""
    latest = (
        select(func.coalesce(func.max(SUBMISSION.c.version), 0) + 1)
        .where(SUBMISSION.c.assignment_id == values["assignment_id"])
        .scalar_subquery()
    )
    stmt = (
        _insert(conn, SUBMISSION)
        .values(**values, version=latest)
        .on_conflict_do_nothing(index_elements=["assignment_id", "form_key"])
        .returning(SUBMISSION.c.id, SUBMISSION.c.version)
    )
    row = conn.execute(stmt).first()
    return (int(row.id), int(row.version)) if row else None


def insert_attachments(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(ATTACHMENT.insert(), rows)


def submissions_of(conn: Connection, assignment_id: int) -> list[dict[str, Any]]:
    """Every version of a unit's summary, newest first, each with its `attachments`."""
    versions = [
        _utc(dict(row))
        for row in conn.execute(
            select(SUBMISSION)
            .where(SUBMISSION.c.assignment_id == assignment_id)
            .order_by(SUBMISSION.c.version.desc())
        ).mappings()
    ]
    files: dict[int, list[dict[str, Any]]] = {v["id"]: [] for v in versions}
    if files:
        query = (
            select(ATTACHMENT)
            .where(ATTACHMENT.c.submission_id.in_(list(files)))
            .order_by(ATTACHMENT.c.id)
        )
        for row in conn.execute(query).mappings():
            files[row["submission_id"]].append(dict(row))
    return [{**v, "attachments": files[v["id"]]} for v in versions]


def attachment_of(
    conn: Connection,
    attachment_id: int,
    *,
    assignment_id: int | None = None,
    campaign_id: int | None = None,
) -> dict[str, Any] | None:
    """An attachment, only if it belongs to that unit (a department's link) or that campaign
    (the coordinator): an id from another unit finds nothing."""
    query = (
        select(ATTACHMENT, SUBMISSION.c.assignment_id)
        .join(SUBMISSION, SUBMISSION.c.id == ATTACHMENT.c.submission_id)
        .join(ASSIGNMENT, ASSIGNMENT.c.id == SUBMISSION.c.assignment_id)
        .where(ATTACHMENT.c.id == attachment_id)
    )
    if assignment_id is not None:
        query = query.where(SUBMISSION.c.assignment_id == assignment_id)
    if campaign_id is not None:
        query = query.where(ASSIGNMENT.c.campaign_id == campaign_id)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None
