"""The ledger as `status` and the CSV read it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from config.clock import to_utc
from models.queries._sql import ASSIGNMENT, DEPARTMENT, MESSAGE_UNIT, NOTIFICATION, _utc
from models.queries.delivery import is_misconfigured
from models.tables import DeliveryState


def status_rows(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """One row per department: assignment status, due and delivery counts by state."""
    counts = (
        select(
            NOTIFICATION.c.assignment_id,
            func.sum(_state_is(DeliveryState.SENT)).label("sent"),
            func.sum(_state_is(DeliveryState.FAILED)).label("failed"),
            func.sum(_state_is(DeliveryState.PENDING)).label("pending"),
            func.sum(_state_is(DeliveryState.SENDING)).label("unconfirmed"),
            func.sum(case((is_misconfigured(NOTIFICATION), 1), else_=0)).label("misconfigured"),
            func.max(NOTIFICATION.c.last_error).label("last_error"),
        )
        .where(NOTIFICATION.c.campaign_id == campaign_id)
        .group_by(NOTIFICATION.c.assignment_id)
        .subquery()
    )
    query = (
        select(
            DEPARTMENT.c.code,
            DEPARTMENT.c.name,
            DEPARTMENT.c.in_file,
            ASSIGNMENT.c.status,
            ASSIGNMENT.c.late,
            ASSIGNMENT.c.settled,
            ASSIGNMENT.c.due_at,
            counts.c.sent,
            counts.c.failed,
            counts.c.pending,
            counts.c.unconfirmed,
            counts.c.misconfigured,
            counts.c.last_error,
        )
        .join(ASSIGNMENT, ASSIGNMENT.c.department_id == DEPARTMENT.c.id)
        .outerjoin(counts, counts.c.assignment_id == ASSIGNMENT.c.id)
        .where(DEPARTMENT.c.campaign_id == campaign_id)
        .order_by(DEPARTMENT.c.id)
    )
    rows = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        for key in ("sent", "failed", "pending", "unconfirmed", "misconfigured"):
            item[key] = int(item[key] or 0)
        item["due_at"] = to_utc(item["due_at"])
        rows.append(item)
    return rows


def _message_columns() -> tuple[Any, ...]:
    """What a ledger listing shows of each message (`status`, the unit page, the CSV)."""
    n = NOTIFICATION.c
    return (
        n.kind,
        n.recipient,
        n.channel,
        n.state,
        n.attempts,
        n.sent_at,
        n.last_error,
        is_misconfigured(NOTIFICATION).label("misconfigured"),
    )


def ledger_of_campaign(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """Every message of a campaign with its department's code, oldest first."""
    query = (
        select(DEPARTMENT.c.code, *_message_columns())
        .select_from(MESSAGE_UNIT)
        .where(NOTIFICATION.c.campaign_id == campaign_id)
        .order_by(NOTIFICATION.c.id)
    )
    return [_utc(dict(row)) for row in conn.execute(query).mappings()]


def _state_is(state: str) -> Any:
    return case((NOTIFICATION.c.state == state, 1), else_=0)
