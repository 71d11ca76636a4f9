"""The report: what it is made from, the row it is recorded as, and its deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from config.clock import to_utc
from models.queries import delivery
from models.queries._sql import (
    ASSIGNMENT,
    ATTACHMENT,
    CAMPAIGN,
    DEPARTMENT,
    MESSAGE_UNIT,
    NOTIFICATION,
    REPORT,
    REPORT_DELIVERY,
    REPORT_NOTES,
    SUBMISSION,
    _insert,
    _insert_new,
    _utc,
)
from models.queries.delivery import BACKOFF
from models.tables import OPEN_STATUSES, AssignmentStatus, DeliveryState


def campaign_submissions(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """Every version of every unit's summary, by unit then version, with `attachments`."""
    query = (
        select(SUBMISSION)
        .join(ASSIGNMENT, ASSIGNMENT.c.id == SUBMISSION.c.assignment_id)
        .where(ASSIGNMENT.c.campaign_id == campaign_id)
        .order_by(SUBMISSION.c.assignment_id, SUBMISSION.c.version)
    )
    versions = [_utc(dict(row)) for row in conn.execute(query).mappings()]
    files: dict[int, list[dict[str, Any]]] = {v["id"]: [] for v in versions}
    query = (
        select(ATTACHMENT)
        .join(SUBMISSION, SUBMISSION.c.id == ATTACHMENT.c.submission_id)
        .join(ASSIGNMENT, ASSIGNMENT.c.id == SUBMISSION.c.assignment_id)
        .where(ASSIGNMENT.c.campaign_id == campaign_id)
        .order_by(ATTACHMENT.c.id)
    )
    for row in conn.execute(query).mappings():
        files[row["submission_id"]].append(dict(row))
    return [{**v, "attachments": files[v["id"]]} for v in versions]


def sent_messages(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """Every message of a campaign that went out, oldest first."""
    query = (
        select(
            NOTIFICATION.c.assignment_id,
            NOTIFICATION.c.kind,
            NOTIFICATION.c.recipient,
            NOTIFICATION.c.sent_at,
        )
        .where(
            NOTIFICATION.c.campaign_id == campaign_id,
            NOTIFICATION.c.state == DeliveryState.SENT,
        )
        .order_by(NOTIFICATION.c.sent_at, NOTIFICATION.c.id)
    )
    return [_utc(dict(row)) for row in conn.execute(query).mappings()]


def record_report(conn: Connection, values: dict[str, Any]) -> int:
    """The report's row, made if new. The same facts make the same row (and keep the document
    that row was made with)."""
    _insert_new(conn, REPORT, [values])
    query = select(REPORT.c.id).where(
        REPORT.c.campaign_id == values["campaign_id"], REPORT.c.digest == values["digest"]
    )
    return int(conn.execute(query).scalar_one())


def plan_report_deliveries(
    conn: Connection, report_id: int, channels: Sequence[str], now: datetime
) -> None:
    rows = [{"report_id": report_id, "channel": c, **delivery.planned(now)} for c in channels]
    _insert_new(conn, REPORT_DELIVERY, rows)


def report_deliveries(conn: Connection, report_id: int) -> list[dict[str, Any]]:
    query = (
        select(REPORT_DELIVERY)
        .where(REPORT_DELIVERY.c.report_id == report_id)
        .order_by(REPORT_DELIVERY.c.id)
    )
    return [_utc(dict(row)) for row in conn.execute(query).mappings()]


def claim_report_delivery(conn: Connection, delivery_id: int, now: datetime) -> bool:
    """Take one unsent delivery for sending; False if it went out or another sender has it."""
    return bool(delivery.claim(conn, REPORT_DELIVERY, [delivery_id], now))


def record_report_delivery(
    conn: Connection,
    delivery_id: int,
    error: str | None,
    now: datetime,
    misconfigured: bool = False,
) -> None:
    if error is None:
        delivery.mark_sent(conn, REPORT_DELIVERY, [delivery_id], now)
    else:
        mark = [delivery_id] if misconfigured else []
        delivery.mark_failed(conn, REPORT_DELIVERY, [(delivery_id, error)], now, mark)


def release_unconfirmed_reports(conn: Connection, campaign_id: int, now: datetime) -> int:
    """`release_unconfirmed` for the campaign's report deliveries."""
    campaign_reports = select(REPORT.c.id).where(REPORT.c.campaign_id == campaign_id)
    return delivery.release(
        conn, REPORT_DELIVERY, now, REPORT_DELIVERY.c.report_id.in_(campaign_reports)
    )


def report_of(conn: Connection, report_id: int) -> dict[str, Any]:
    """The report's row, with its campaign's `slug` and `spec`."""
    query = (
        select(REPORT, CAMPAIGN.c.slug, CAMPAIGN.c.spec)
        .join(CAMPAIGN, CAMPAIGN.c.id == REPORT.c.campaign_id)
        .where(REPORT.c.id == report_id)
    )
    return _utc(dict(conn.execute(query).mappings().one()))


def latest_report(conn: Connection, campaign_id: int) -> dict[str, Any] | None:
    """The campaign's newest report (its Word file and the name it is offered under)."""
    query = (
        select(REPORT.c.id, REPORT.c.document, REPORT.c.document_name, REPORT.c.made_at)
        .where(REPORT.c.campaign_id == campaign_id)
        .order_by(REPORT.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return _utc(dict(row)) if row else None


def report_notes(conn: Connection, campaign_id: int) -> dict[str, Any] | None:
    """The coordinator's notes for the campaign's report (问题, 下一步, 表扬), if written."""
    query = select(REPORT_NOTES).where(REPORT_NOTES.c.campaign_id == campaign_id)
    row = conn.execute(query).mappings().first()
    return _utc(dict(row)) if row else None


def save_report_notes(conn: Connection, values: dict[str, Any]) -> None:
    """The notes as the coordinator's form sent them, replacing those saved before."""
    stmt = _insert(conn, REPORT_NOTES).values(**values)
    keep = {k: stmt.excluded[k] for k in values if k != "campaign_id"}
    conn.execute(stmt.on_conflict_do_update(index_elements=["campaign_id"], set_=keep))


def final_report_made(conn: Connection, campaign_id: int) -> bool:
    query = select(REPORT.c.id).where(REPORT.c.campaign_id == campaign_id, REPORT.c.final.is_(True))
    return conn.execute(query.limit(1)).first() is not None


def all_accepted(conn: Connection, campaign_id: int) -> bool:
    """Whether every unit of the campaign file has its summary accepted. Asked on every
    monitor pass: an EXISTS stops at the first unit still to accept instead of counting all."""
    pending = (
        select(ASSIGNMENT.c.id)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(
            ASSIGNMENT.c.campaign_id == campaign_id,
            ASSIGNMENT.c.status != AssignmentStatus.ACCEPTED,
            DEPARTMENT.c.in_file.is_(True),
        )
        .exists()
    )
    return not conn.execute(select(pending)).scalar_one()


def _report_delivery_due(now: datetime) -> Any:
    """Unsent and due: failed and past its backoff, or planned and left a while (its sender
    stopped between recording the report and sending it)."""
    return delivery.due(REPORT_DELIVERY, now, planned_before=now - BACKOFF[0])


def reports_to_retry(conn: Connection, now: datetime) -> list[int]:
    """Reports of open campaigns with a delivery due again (see `_report_delivery_due`)."""
    query = (
        select(REPORT_DELIVERY.c.report_id)
        .join(REPORT, REPORT.c.id == REPORT_DELIVERY.c.report_id)
        .join(CAMPAIGN, CAMPAIGN.c.id == REPORT.c.campaign_id)
        .where(CAMPAIGN.c.status == "open", _report_delivery_due(now))
        .group_by(REPORT_DELIVERY.c.report_id)
        .order_by(REPORT_DELIVERY.c.report_id)
    )
    return [int(i) for i in conn.execute(query).scalars()]


def report_deliveries_due(conn: Connection, report_id: int, now: datetime) -> set[int]:
    query = select(REPORT_DELIVERY.c.id).where(
        REPORT_DELIVERY.c.report_id == report_id, _report_delivery_due(now)
    )
    return {int(i) for i in conn.execute(query).scalars()}


def withdraw_older_reports(
    conn: Connection, campaign_id: int, report_id: int, now: datetime
) -> None:
    """A newer report supersedes the older ones' unsent deliveries: a retry never sends a
    report that the campaign has moved past."""
    older = select(REPORT.c.id).where(REPORT.c.campaign_id == campaign_id, REPORT.c.id != report_id)
    delivery.withdraw(conn, REPORT_DELIVERY, now, REPORT_DELIVERY.c.report_id.in_(older))


def latest_open_due(conn: Connection, campaign_id: int) -> datetime | None:
    """The latest deadline of a unit still owing, extensions included."""
    query = select(func.max(ASSIGNMENT.c.due_at)).where(
        ASSIGNMENT.c.campaign_id == campaign_id, ASSIGNMENT.c.status.in_(OPEN_STATUSES)
    )
    latest = conn.execute(query).scalar_one_or_none()
    return to_utc(latest) if latest is not None else None


def sent_between(
    conn: Connection, campaign_id: int, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Messages that went out in [start, end): kind, recipient and the unit's name."""
    query = (
        select(NOTIFICATION.c.kind, NOTIFICATION.c.recipient, DEPARTMENT.c.name)
        .select_from(MESSAGE_UNIT)
        .where(
            NOTIFICATION.c.campaign_id == campaign_id,
            NOTIFICATION.c.state == DeliveryState.SENT,
            NOTIFICATION.c.sent_at >= start,
            NOTIFICATION.c.sent_at < end,
        )
        .order_by(NOTIFICATION.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
