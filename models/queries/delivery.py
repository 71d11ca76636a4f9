"""Delivering a ledger row exactly once: claimed, then recorded sent or failed (with a
backoff before the retry), or released when its sender stopped mid-send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, case, select, update

from models.queries._sql import NOTIFICATION, REPORT, REPORT_DELIVERY, _chunks
from models.tables import DeliveryState

UNSENT = (DeliveryState.PENDING, DeliveryState.FAILED)
MAX_ATTEMPTS = 8


def release_unconfirmed(
    conn: Connection, campaign_id: int, now: datetime, kind: str | None = None
) -> int:
    """Make messages left `sending` by a sender that died sendable again, on the
    coordinator's word that no other sender is running."""
    which = [NOTIFICATION.c.campaign_id == campaign_id]
    if kind is not None:
        which.append(NOTIFICATION.c.kind == kind)
    stmt = (
        update(NOTIFICATION)
        .where(*which, NOTIFICATION.c.state == DeliveryState.SENDING)
        .values(
            state=DeliveryState.FAILED,
            last_error="unconfirmed: the sender stopped mid-send; resent on request",
            updated_at=now,
        )
        .returning(NOTIFICATION.c.id)
    )
    return len(conn.execute(stmt).all())


def record_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    _mark_sent(conn, NOTIFICATION, ids, now)


def _mark_sent(conn: Connection, table: Table, ids: Sequence[int], now: datetime) -> None:
    # Only rows this sender claimed (`sending`) are recorded: never another sender's result.
    for chunk in _chunks(ids):
        conn.execute(
            update(table)
            .where(table.c.id.in_(chunk), table.c.state == DeliveryState.SENDING)
            .values(state=DeliveryState.SENT, sent_at=now, updated_at=now, last_error=None)
        )


# Waits before the monitor retries a failed message, by attempts made so far; after
# MAX_ATTEMPTS the message stays failed (shown by `status`) until someone resends it.
BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))


def record_failed(conn: Connection, failures: Sequence[tuple[int, str]], now: datetime) -> None:
    _mark_failed(conn, NOTIFICATION, failures, now)


def _mark_failed(
    conn: Connection, table: Table, failures: Sequence[tuple[int, str]], now: datetime
) -> None:
    attempts = table.c.attempts
    retry_at = case(
        *((attempts <= n, now + wait) for n, wait in enumerate(BACKOFF[:-1], start=1)),
        else_=now + BACKOFF[-1],
    )
    for row_id, reason in failures:
        conn.execute(
            update(table)
            .where(table.c.id == row_id, table.c.state == DeliveryState.SENDING)
            .values(
                state=DeliveryState.FAILED,
                last_error=reason[:2000],
                updated_at=now,
                next_attempt_at=retry_at,
            )
        )


def claim_report_delivery(conn: Connection, delivery_id: int, now: datetime) -> bool:
    """Take one unsent delivery for sending; False if it went out or another sender has it."""
    stmt = (
        update(REPORT_DELIVERY)
        .where(
            REPORT_DELIVERY.c.id == delivery_id,
            REPORT_DELIVERY.c.state.in_(UNSENT),
            REPORT_DELIVERY.c.attempts < MAX_ATTEMPTS,
        )
        .values(
            state=DeliveryState.SENDING,
            attempts=REPORT_DELIVERY.c.attempts + 1,
            updated_at=now,
        )
        .returning(REPORT_DELIVERY.c.id)
    )
    return conn.execute(stmt).first() is not None


def record_report_delivery(
    conn: Connection, delivery_id: int, error: str | None, now: datetime
) -> None:
    if error is None:
        _mark_sent(conn, REPORT_DELIVERY, [delivery_id], now)
    else:
        _mark_failed(conn, REPORT_DELIVERY, [(delivery_id, error)], now)


def release_unconfirmed_reports(conn: Connection, campaign_id: int, now: datetime) -> int:
    """`release_unconfirmed` for the campaign's report deliveries."""
    campaign_reports = select(REPORT.c.id).where(REPORT.c.campaign_id == campaign_id)
    stmt = (
        update(REPORT_DELIVERY)
        .where(
            REPORT_DELIVERY.c.report_id.in_(campaign_reports),
            REPORT_DELIVERY.c.state == DeliveryState.SENDING,
        )
        .values(
            state=DeliveryState.FAILED,
            last_error="unconfirmed: the sender stopped mid-send; resent on request",
            updated_at=now,
            next_attempt_at=None,
        )
        .returning(REPORT_DELIVERY.c.id)
    )
    return len(conn.execute(stmt).all())
