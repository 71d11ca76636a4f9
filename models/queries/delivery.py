"""Delivering a row exactly once, for every kind of message: a department's (`notification`)
and a report's (`reportdelivery`). Both tables have the same delivery columns (`state`,
`attempts`, `last_error`, `next_attempt_at`, `created_at`, `updated_at`, `sent_at`), and a row
moves through one machine:

    pending ──claim──> sending ──mark_sent──> sent
       ^                  │ └──mark_failed──> failed ──(backoff; claim again)──> sending …
       │                  └──release──> failed (its sender stopped mid-send)
    (planned)           pending or failed ──withdraw──> withdrawn (superseded, not sent)

A failure the channel blames on its own configuration (a bad token, keyword, signature, IP
allow-list) is marked misconfigured: the same request would be refused again, so no backoff
and no claim takes the row until `recheck_misconfigured` clears the mark on request.

The claim is a conditional UPDATE, so of two senders racing for a row only one takes it; a
result is recorded only on a row still `sending`, so a sender never records over another's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, bindparam, case, func, update

from models.queries._sql import _chunks
from models.tables import DeliveryState

UNSENT = (DeliveryState.PENDING, DeliveryState.FAILED)
# After MAX_ATTEMPTS a row stays failed (shown by `status`) until someone resends it.
MAX_ATTEMPTS = 8
# Waits before a failed row is retried, by attempts made so far: the last one repeats.
BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))
# The mark a misconfigured failure's reason starts with. A mark in the reason, not a column
# of its own: a database of an earlier release reads and writes unchanged, and every place
# that shows the reason (status, the dashboard, the CSV) shows the mark with it.
MISCONFIGURED = "misconfigured: "
# The reason left on a row released from `sending`.
UNCONFIRMED = "unconfirmed: the sender stopped mid-send; resent on request"


def planned(now: datetime) -> dict[str, Any]:
    """The delivery columns of a row planned now, not yet attempted."""
    return {"state": DeliveryState.PENDING, "attempts": 0, "created_at": now, "updated_at": now}


def claim(
    conn: Connection, table: Table, ids: Sequence[int], now: datetime, *wanted: Any
) -> list[int]:
    """Mark rows as being sent; returns those taken. Only rows still pending or failed, with
    attempts left, and meeting `wanted` (conditions of the caller's own) are taken, so two
    senders racing for the same rows each get a disjoint share."""
    if len(ids) == 1:  # a sender's claim, once per message: the statement is built once
        taken = conn.execute(_claim_one(table, wanted), {"row_id": ids[0], "claimed_at": now})
        return [int(i) for i in taken.scalars()]
    claimed: list[int] = []
    for chunk in _chunks(ids):
        stmt = (
            update(table)
            .where(table.c.id.in_(chunk), *_claimable(table, wanted))
            .values(state=DeliveryState.SENDING, attempts=table.c.attempts + 1, updated_at=now)
            .returning(table.c.id)
        )
        claimed.extend(int(i) for i in conn.execute(stmt).scalars())
    return claimed


def _claimable(table: Table, wanted: tuple[Any, ...]) -> tuple[Any, ...]:
    return (
        table.c.state.in_(UNSENT),
        table.c.attempts < MAX_ATTEMPTS,
        ~is_misconfigured(table),
        *wanted,
    )


@lru_cache(maxsize=16)
def _claim_one(table: Table, wanted: tuple[Any, ...]) -> Any:
    # Built and coerced once (callers pass the same `wanted` objects): building it cost more
    # CPU than the UPDATE itself, once for every message sent.
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"), *_claimable(table, wanted))
        .values(
            state=DeliveryState.SENDING,
            attempts=table.c.attempts + 1,
            updated_at=bindparam("claimed_at"),
        )
        .returning(table.c.id)
    )


def mark_sent(conn: Connection, table: Table, ids: Sequence[int], now: datetime) -> None:
    # Only rows this sender claimed (`sending`) are recorded: never another sender's result.
    for chunk in _chunks(ids):
        conn.execute(
            update(table)
            .where(table.c.id.in_(chunk), table.c.state == DeliveryState.SENDING)
            .values(state=DeliveryState.SENT, sent_at=now, updated_at=now, last_error=None)
        )


def mark_failed(
    conn: Connection,
    table: Table,
    failures: Sequence[tuple[int, str]],
    now: datetime,
    misconfigured: Collection[int] = (),
) -> None:
    """Record each row's reason and when it may be retried (see `BACKOFF`); rows in
    `misconfigured` are marked so, and not retried."""
    attempts = table.c.attempts
    retry_at = case(
        *((attempts <= n, now + wait) for n, wait in enumerate(BACKOFF[:-1], start=1)),
        else_=now + BACKOFF[-1],
    )
    for row_id, reason in failures:
        marked = row_id in misconfigured
        conn.execute(
            update(table)
            .where(table.c.id == row_id, table.c.state == DeliveryState.SENDING)
            .values(
                state=DeliveryState.FAILED,
                last_error=((MISCONFIGURED if marked else "") + reason)[:2000],
                updated_at=now,
                next_attempt_at=None if marked else retry_at,
            )
        )


def release(conn: Connection, table: Table, now: datetime, *which: Any) -> int:
    """Make rows (of `which`) left `sending` by a sender that died sendable again, due at
    once; on the coordinator's word that no other sender is running. Returns how many."""
    stmt = (
        update(table)
        .where(*which, table.c.state == DeliveryState.SENDING)
        .values(
            state=DeliveryState.FAILED,
            last_error=UNCONFIRMED,
            updated_at=now,
            next_attempt_at=None,
        )
        .returning(table.c.id)
    )
    return len(conn.execute(stmt).all())


def withdraw(conn: Connection, table: Table, now: datetime, *which: Any) -> None:
    """Rows (of `which`) still unsent are not to be sent any more: their channel, unit or
    report has been superseded. A row being sent is left to its sender."""
    conn.execute(
        update(table)
        .where(*which, table.c.state.in_(UNSENT))
        .values(state=DeliveryState.WITHDRAWN, updated_at=now)
    )


def due(table: Table, now: datetime, planned_before: datetime | None = None) -> ColumnElement[bool]:
    """Rows to send now: attempts left, and planned (before `planned_before` if given: a row
    its own sender is about to take is not due yet), or failed and past their backoff."""
    row = table.c
    pending = row.state == DeliveryState.PENDING
    if planned_before is not None:
        pending = pending & (row.created_at <= planned_before)
    failed = (row.state == DeliveryState.FAILED) & (
        row.next_attempt_at.is_(None) | (row.next_attempt_at <= now)
    )
    return (row.attempts < MAX_ATTEMPTS) & ~is_misconfigured(table) & (pending | failed)


def is_misconfigured(table: Table) -> ColumnElement[bool]:
    """Whether a row failed as misconfigured (its reason carries the mark)."""
    return func.coalesce(table.c.last_error, "").startswith(MISCONFIGURED)


def without_mark(reason: str | None) -> str | None:
    """A reason as the channel gave it, the misconfigured mark taken off."""
    return reason.removeprefix(MISCONFIGURED) if reason else reason


def recheck_misconfigured(conn: Connection, table: Table, now: datetime, *which: Any) -> int:
    """On request (the coordinator says the channel is fixed): rows of `which` marked
    misconfigured become sendable again, once. Returns how many."""
    stmt = (
        update(table)
        .where(*which, is_misconfigured(table))
        .values(
            last_error=func.substr(table.c.last_error, len(MISCONFIGURED) + 1),
            next_attempt_at=None,
            updated_at=now,
        )
        .returning(table.c.id)
    )
    return len(conn.execute(stmt).all())
