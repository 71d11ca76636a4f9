"""What the monitor reads and writes on each pass: open campaigns, the deadlines still
owed, the reminders to plan, withdraw or send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from config.clock import to_utc
from models.queries._sql import (
    ASSIGNMENT,
    CAMPAIGN,
    DEPARTMENT,
    MESSAGE_UNIT,
    NOTIFICATION,
    _chunks,
    _utc,
)
from models.queries.delivery import UNSENT, due, withdraw
from models.queries.ledger import _is_rung, _still_wanted
from models.tables import OPEN_STATUSES


def open_campaigns(conn: Connection) -> list[dict[str, Any]]:
    query = select(CAMPAIGN.c.id, CAMPAIGN.c.slug, CAMPAIGN.c.spec, CAMPAIGN.c.due_at).where(
        CAMPAIGN.c.status == "open"
    )
    return [_utc(dict(row)) for row in conn.execute(query.order_by(CAMPAIGN.c.id)).mappings()]


@dataclass(frozen=True)
class OpenAssignment:
    assignment_id: int
    due_at: datetime
    notify: list[str]
    head_notify: list[str]


def open_deadlines(conn: Connection, campaign_id: int) -> list[tuple[datetime, int]]:
    """The deadlines of the assignments still owed, with how many share each: the ladder's
    rung depends on the deadline only, so the monitor decides once per deadline. Read from
    the status index alone."""
    query = (
        select(ASSIGNMENT.c.due_at, func.count())
        .where(ASSIGNMENT.c.campaign_id == campaign_id, ASSIGNMENT.c.status.in_(OPEN_STATUSES))
        .group_by(ASSIGNMENT.c.due_at)
        .order_by(ASSIGNMENT.c.due_at)
    )
    return [(to_utc(due), int(n)) for due, n in conn.execute(query)]


def open_assignments(
    conn: Connection, campaign_id: int, due_at: datetime, lacking: str
) -> list[OpenAssignment]:
    """Assignments still owed with this deadline, of departments still in the campaign file,
    that have no message of kind `lacking` yet: only they need rows planned. (A channel added
    to a unit after a rung went out gets the next rung, not a late copy of this one.)"""
    planned = (
        select(NOTIFICATION.c.id)
        .where(NOTIFICATION.c.assignment_id == ASSIGNMENT.c.id, NOTIFICATION.c.kind == lacking)
        .correlate(ASSIGNMENT)
        .exists()
    )
    query = (
        select(ASSIGNMENT.c.id, ASSIGNMENT.c.due_at, DEPARTMENT.c.notify, DEPARTMENT.c.head_notify)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(
            ASSIGNMENT.c.campaign_id == campaign_id,
            ASSIGNMENT.c.status.in_(OPEN_STATUSES),
            ASSIGNMENT.c.due_at == due_at,
            DEPARTMENT.c.in_file.is_(True),
            ~planned,
        )
        # One order for every planner: two at once insert rows in the same order, no deadlock.
        .order_by(ASSIGNMENT.c.id)
    )
    return [
        OpenAssignment(int(i), to_utc(due), list(notify), list(head or []))
        for i, due, notify, head in conn.execute(query)
    ]


def withdraw_stale_rungs(
    conn: Connection, campaign_id: int, current: dict[datetime, str], now: datetime
) -> int:
    """Withdraw unsent reminders that are no longer the one due (`current`: the rung kind due
    for each deadline): an earlier rung the monitor missed, a rung of a deadline since
    extended, or any for a unit that has delivered or left the campaign file."""
    query = (
        select(
            NOTIFICATION.c.id,
            ASSIGNMENT.c.due_at,
            ASSIGNMENT.c.status,
            DEPARTMENT.c.in_file,
            NOTIFICATION.c.kind,
        )
        .select_from(MESSAGE_UNIT)
        .where(
            NOTIFICATION.c.campaign_id == campaign_id,
            _is_rung(),
            NOTIFICATION.c.state.in_(UNSENT),
        )
    )
    stale = [
        i
        for i, due, status, in_file, kind in conn.execute(query)
        if not in_file or status not in OPEN_STATUSES or current.get(to_utc(due)) != kind
    ]
    for chunk in _chunks(stale):
        withdraw(conn, NOTIFICATION, now, NOTIFICATION.c.id.in_(chunk))
    return len(stale)


def due_for_sending(conn: Connection, campaign_id: int, now: datetime) -> list[int]:
    """Messages still wanted (see `_still_wanted`) that are planned, or failed and past
    their backoff."""
    query = (
        select(NOTIFICATION.c.id)
        .select_from(MESSAGE_UNIT)
        .where(
            NOTIFICATION.c.campaign_id == campaign_id,
            _still_wanted(),
            DEPARTMENT.c.in_file.is_(True),
            due(NOTIFICATION, now),
        )
        .order_by(NOTIFICATION.c.id)
    )
    return [int(i) for i in conn.execute(query).scalars()]
