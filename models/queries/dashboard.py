"""The dashboard: campaigns with their progress, units filtered, sorted and paged, and what
each unit's ledger says."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, select

from config.clock import to_utc
from models.kinds import NOTICE
from models.queries._sql import (
    ASSIGNMENT,
    CAMPAIGN,
    DEPARTMENT,
    NOTIFICATION,
    _chunks,
    _utc,
    _utc_rows,
)
from models.queries.status import _message_columns
from models.tables import AssignmentStatus, DeliveryState

DASHBOARD_FILTERS = (
    "overdue",
    "not_acknowledged",
    "acknowledged",
    "submitted",
    "late",
    "returned",
    "accepted",
)
DASHBOARD_SORTS = ("due", "code", "name", "status", "submitted")


def campaigns_progress(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Every campaign, newest first, with its units counted by status and overdue."""
    campaigns = [
        _utc(dict(row))
        for row in conn.execute(
            select(
                CAMPAIGN.c.id,
                CAMPAIGN.c.slug,
                CAMPAIGN.c.title,
                CAMPAIGN.c.timezone,
                CAMPAIGN.c.due_at,
                CAMPAIGN.c.status,
            ).order_by(CAMPAIGN.c.launched_at.desc(), CAMPAIGN.c.id.desc())
        ).mappings()
    ]
    for c in campaigns:
        c["counts"] = status_counts(conn, c["id"], now)
    return campaigns


def status_counts(conn: Connection, campaign_id: int, now: datetime) -> dict[str, int]:
    """Units by dashboard status, plus `overdue` and `total`.

    Counting 50,000 units takes 10 to 20 ms, more than all the rest of a dashboard page. So
    the counts are kept with the database connection and counted again only when the
    database has changed since (`_data_version`), whoever changed it: never stale. `overdue`
    is worked out for `now` from the open units' deadlines, so a moving clock needs no recount.
    """
    version = _data_version(conn)
    kept: dict[int, Any] = conn.info.setdefault("duban_status_counts", {})
    found = kept.get(campaign_id)
    if found is None or found[0] != version:
        found = kept[campaign_id] = (version, *_count_units(conn, campaign_id))
    _, by_status, open_by_due = found
    counts = dict(by_status)
    counts["overdue"] = sum(n for due_at, n in open_by_due if due_at < now)
    return counts


def _count_units(
    conn: Connection, campaign_id: int
) -> tuple[dict[str, int], list[tuple[datetime, int]]]:
    """Units by dashboard status (with `total`), and open units by deadline. Both are read
    from an index alone (`ix_assignment_campaign_status`, `ix_assignment_dashboard`)."""
    query = (
        select(ASSIGNMENT.c.status, ASSIGNMENT.c.late, func.count())
        .where(ASSIGNMENT.c.campaign_id == campaign_id)
        .group_by(ASSIGNMENT.c.status, ASSIGNMENT.c.late)
    )
    counts = dict.fromkeys(DASHBOARD_FILTERS, 0)
    for status, late, n in conn.execute(query):
        counts[display_status(status, bool(late))] += int(n)
    counts["total"] = sum(v for k, v in counts.items() if k != "overdue")
    open_units = (
        select(ASSIGNMENT.c.due_at, func.count())
        .where(ASSIGNMENT.c.campaign_id == campaign_id, ASSIGNMENT.c.settled.is_(False))
        .group_by(ASSIGNMENT.c.due_at)
    )
    return counts, [(to_utc(due_at), int(n)) for due_at, n in conn.execute(open_units)]


def _data_version(conn: Connection) -> Any:
    """A value that changes whenever data this connection can see may have changed."""
    if conn.dialect.name == "sqlite":
        # data_version moves when another connection commits; total_changes counts this
        # connection's own writes.
        seen = conn.exec_driver_sql("PRAGMA data_version").scalar_one()
        return seen, conn.connection.dbapi_connection.total_changes  # type: ignore[union-attr]
    # The snapshot names the transactions whose work is visible: equal snapshots, equal data.
    return conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar_one()


def display_status(status: str, late: bool) -> str:
    if status == AssignmentStatus.ASSIGNED:
        return "not_acknowledged"
    if status == AssignmentStatus.SUBMITTED and late:
        return "late"
    return str(status)


def _dashboard_filter(status: str | None) -> list[Any]:
    """The list's filter, with the campaign and the clock left as parameters (`campaign_id`,
    `now`), so that each statement is built once (see `_dashboard_query`)."""
    where = [ASSIGNMENT.c.campaign_id == bindparam("campaign_id")]
    if status == "overdue":
        where += [ASSIGNMENT.c.settled.is_(False), ASSIGNMENT.c.due_at < bindparam("now")]
    elif status == "not_acknowledged":
        where.append(ASSIGNMENT.c.status == AssignmentStatus.ASSIGNED)
    elif status in ("submitted", "late"):
        where += [
            ASSIGNMENT.c.status == AssignmentStatus.SUBMITTED,
            ASSIGNMENT.c.late.is_(status == "late"),
        ]
    elif status is not None:
        where.append(ASSIGNMENT.c.status == status)
    return where


def dashboard_count(conn: Connection, campaign_id: int, status: str | None, now: datetime) -> int:
    query = select(func.count()).select_from(ASSIGNMENT).where(*_dashboard_filter(status))
    return int(conn.execute(query, {"campaign_id": campaign_id, "now": now}).scalar_one())


# The statements the dashboard runs on every page are built once per process (`cache`):
# building a SELECT and deriving its cache key cost several times what SQLite then spends
# running it. Their arguments are the few known words of `web.dashboard._view`.
@cache
def _dashboard_query(status: str | None, sort: str, descending: bool, paged: bool) -> Any:
    columns = {
        "due": [ASSIGNMENT.c.settled, ASSIGNMENT.c.due_at],
        "code": [DEPARTMENT.c.code],
        # The campaign file's order, as the notice lists its units: departments are stored
        # in that order at launch (one added later comes last).
        "file": [DEPARTMENT.c.id],
        "name": [DEPARTMENT.c.name],
        "status": [ASSIGNMENT.c.status, ASSIGNMENT.c.late],
        "submitted": [ASSIGNMENT.c.submitted_at],
    }[sort]
    order = [c.desc() if descending else c for c in columns]
    order.append(ASSIGNMENT.c.id.desc() if descending else ASSIGNMENT.c.id)
    query = (
        select(
            ASSIGNMENT.c.id.label("assignment_id"),
            ASSIGNMENT.c.status,
            ASSIGNMENT.c.late,
            ASSIGNMENT.c.settled,
            ASSIGNMENT.c.due_at,
            ASSIGNMENT.c.acknowledged_at,
            ASSIGNMENT.c.submitted_at,
            DEPARTMENT.c.code,
            DEPARTMENT.c.name,
            DEPARTMENT.c.person,
            DEPARTMENT.c.phone,
            DEPARTMENT.c.in_file,
        )
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(*_dashboard_filter(status))
        .order_by(*order)
    )
    if paged:
        query = query.offset(bindparam("offset")).limit(bindparam("limit"))
    return query


def dashboard_rows(
    conn: Connection,
    campaign_id: int,
    now: datetime,
    *,
    status: str | None = None,
    sort: str = "due",
    descending: bool = False,
    offset: int = 0,
    limit: int | None = 50,
) -> list[dict[str, Any]]:
    """A page of units (all of them if `limit` is None). The default order puts units that
    still owe their summary first, earliest deadline first, so overdue units lead (the
    dashboard index serves it)."""
    paged = limit is not None
    query = _dashboard_query(status, sort, descending, paged)
    params: dict[str, Any] = {"campaign_id": campaign_id, "now": now}
    if paged:
        params.update(offset=offset, limit=limit)
    return _utc_rows(conn.execute(query, params))


def messages_of(conn: Connection, assignment_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Every message to or about these units, oldest first."""
    out: dict[int, list[dict[str, Any]]] = {a: [] for a in assignment_ids}
    query = _messages_query()
    for chunk in _chunks(list(assignment_ids)):
        for row in _utc_rows(conn.execute(query, {"ids": list(chunk)})):
            out[row["assignment_id"]].append(row)
    return out


@cache
def _messages_query() -> Any:
    return (
        select(NOTIFICATION.c.assignment_id, *_message_columns(), NOTIFICATION.c.created_at)
        .where(NOTIFICATION.c.assignment_id.in_(bindparam("ids", expanding=True)))
        .order_by(NOTIFICATION.c.id)
    )


def message_summaries(conn: Connection, assignment_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What the dashboard's list shows of each unit's ledger, counted in the database: the
    state of its first notice (`notice_state`, and why it failed: `notice_error`); of its
    other messages (reminders, escalations, the coordinator's actions) how many there are
    (`total`), delivered (`sent`), failed
    (`failed`) and not sent yet (`unsent`: pending or unconfirmed); the latest of them
    (`kind`, `recipient`, `state`, `at`: when it was sent, else planned); and the latest that
    failed (`failed_kind`, `failed_recipient`, `last_error`, `failed_at`). A unit without
    messages is left out."""
    out: dict[int, dict[str, Any]] = {}
    query = _summaries_query()
    for chunk in _chunks(list(assignment_ids)):
        for row in _utc_rows(conn.execute(query, {"ids": list(chunk)})):
            out[row["assignment_id"]] = row
    return out


@cache
def _summaries_query() -> Any:
    n = NOTIFICATION
    notice = n.c.kind == NOTICE
    other = n.c.kind != NOTICE
    failed = other & (n.c.state == DeliveryState.FAILED)
    unsent = other & n.c.state.in_((DeliveryState.PENDING, DeliveryState.SENDING))
    per_unit = (
        select(
            n.c.assignment_id,
            func.min(case((notice, n.c.id))).label("notice_id"),
            func.max(case((other, n.c.id))).label("latest_id"),
            func.max(case((failed, n.c.id))).label("failed_id"),
            func.count(case((other, 1))).label("total"),
            func.count(case((other & (n.c.state == DeliveryState.SENT), 1))).label("sent"),
            func.count(case((failed, 1))).label("failed"),
            func.count(case((unsent, 1))).label("unsent"),
        )
        .where(n.c.assignment_id.in_(bindparam("ids", expanding=True)))
        .group_by(n.c.assignment_id)
        .subquery()
    )
    # Three lookups by primary key per unit: its first notice, its latest message, and its
    # latest failure.
    first, latest, failure = n.alias("first_notice"), n.alias("latest"), n.alias("failure")
    return select(
        per_unit.c.assignment_id,
        per_unit.c.total,
        per_unit.c.sent,
        per_unit.c.failed,
        per_unit.c.unsent,
        first.c.state.label("notice_state"),
        first.c.last_error.label("notice_error"),
        latest.c.kind,
        latest.c.recipient,
        latest.c.state,
        func.coalesce(latest.c.sent_at, latest.c.created_at).label("at"),
        failure.c.kind.label("failed_kind"),
        failure.c.recipient.label("failed_recipient"),
        failure.c.last_error,
        failure.c.updated_at.label("failed_at"),
    ).select_from(
        per_unit.outerjoin(first, first.c.id == per_unit.c.notice_id)
        .outerjoin(latest, latest.c.id == per_unit.c.latest_id)
        .outerjoin(failure, failure.c.id == per_unit.c.failed_id)
    )
