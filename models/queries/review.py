"""The coordinator's actions on one unit: verdicts, deadlines, new contacts, new links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from models.queries._sql import ASSIGNMENT, DEPARTMENT, NOTIFICATION, SUBMISSION, TOKEN
from models.queries.delivery import UNSENT
from models.tables import SETTLED_STATUSES, DeliveryState


def set_status(
    conn: Connection, assignment_id: int, status: str, now: datetime, **values: Any
) -> None:
    conn.execute(
        update(ASSIGNMENT)
        .where(ASSIGNMENT.c.id == assignment_id)
        .values(
            status=status,
            settled=status in SETTLED_STATUSES,
            updated_at=now,
            **values,
        )
    )


def review_latest(
    conn: Connection,
    assignment_id: int,
    version: int,
    verdict: str,
    comment: str | None,
    by: str,
    now: datetime,
) -> int | None:
    """Record the verdict on `version` if it is still the latest one and not yet reviewed:
    the coordinator judges what they read, never a revision that arrived meanwhile. Returns
    the submission's id, or None."""
    newest = (
        select(func.max(SUBMISSION.c.version))
        .where(SUBMISSION.c.assignment_id == assignment_id)
        .scalar_subquery()
    )
    stmt = (
        update(SUBMISSION)
        .where(
            SUBMISSION.c.assignment_id == assignment_id,
            SUBMISSION.c.version == version,
            SUBMISSION.c.version == newest,
            SUBMISSION.c.review.is_(None),
        )
        .values(review=verdict, review_comment=comment, reviewed_at=now, reviewed_by=by)
        .returning(SUBMISSION.c.id)
    )
    found = conn.execute(stmt).scalar_one_or_none()
    return int(found) if found is not None else None


def set_due(conn: Connection, assignment_id: int, due_at: datetime, now: datetime) -> None:
    conn.execute(
        update(ASSIGNMENT)
        .where(ASSIGNMENT.c.id == assignment_id)
        .values(due_at=due_at, updated_at=now)
    )


def reassign_department(
    conn: Connection, department_id: int, contact: dict[str, Any], now: datetime
) -> None:
    conn.execute(
        update(DEPARTMENT)
        .where(DEPARTMENT.c.id == department_id)
        .values(**contact, reassigned_at=now)
    )


def revoke_links(conn: Connection, assignment_id: int, now: datetime) -> None:
    conn.execute(
        update(TOKEN)
        .where(TOKEN.c.assignment_id == assignment_id, TOKEN.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def withdraw_unsent(
    conn: Connection, assignment_id: int, keep_channels: Sequence[str], now: datetime
) -> None:
    """Unsent messages to addresses the unit no longer has are withdrawn."""
    conn.execute(
        update(NOTIFICATION)
        .where(
            NOTIFICATION.c.assignment_id == assignment_id,
            NOTIFICATION.c.recipient == "department",
            NOTIFICATION.c.state.in_(UNSENT),
            NOTIFICATION.c.channel.not_in(list(keep_channels)),
        )
        .values(state=DeliveryState.WITHDRAWN, updated_at=now)
    )


def planned_ids(conn: Connection, assignment_id: int, kind: str) -> list[int]:
    query = select(NOTIFICATION.c.id).where(
        NOTIFICATION.c.assignment_id == assignment_id,
        NOTIFICATION.c.kind == kind,
        NOTIFICATION.c.state.in_(UNSENT),
    )
    return [int(i) for i in conn.execute(query).scalars()]
