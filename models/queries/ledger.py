"""The notification ledger: one row per message to one channel, planned before it is sent,
and what a sender reads of it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from config.campaign.schema import CampaignSettings
from config.clock import to_utc
from models.kinds import is_rung_sql
from models.queries import delivery
from models.queries._sql import (
    ASSIGNMENT,
    CAMPAIGN,
    DEPARTMENT,
    MESSAGE_UNIT,
    NOTIFICATION,
    TOKEN,
    _chunks,
    _in,
    _insert_new_batch,
)
from models.queries.delivery import UNSENT
from models.tables import OPEN_STATUSES, DeliveryState


def ledger_row(
    campaign_id: int,
    assignment_id: int,
    kind: str,
    channel: str,
    now: datetime,
    recipient: str = "department",
    note: str | None = None,
) -> dict[str, Any]:
    """A message planned now, for `insert_ledger_rows`."""
    return {
        "campaign_id": campaign_id,
        "assignment_id": assignment_id,
        "kind": kind,
        "channel": channel,
        "recipient": recipient,
        "note": note,
        **delivery.planned(now),
    }


def insert_ledger_rows(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Plan messages; a message already planned (same assignment, kind, channel) is skipped."""
    return _insert_new_batch(conn, NOTIFICATION, rows)


def sync_planned(
    conn: Connection, kind: str, channels: dict[int, list[str]], now: datetime
) -> None:
    """Match unsent messages to each assignment's current channels: a channel taken out of
    the file is withdrawn (a wrong address is not retried for ever), one put back revives."""
    withdraw: list[int] = []
    revive: list[int] = []
    for which in _in(conn, NOTIFICATION.c.assignment_id, list(channels)):
        query = select(
            NOTIFICATION.c.id,
            NOTIFICATION.c.assignment_id,
            NOTIFICATION.c.channel,
            NOTIFICATION.c.state,
        ).where(
            which,
            NOTIFICATION.c.kind == kind,
            NOTIFICATION.c.state.in_([*UNSENT, DeliveryState.WITHDRAWN]),
        )
        for row in conn.execute(query):
            current = row.channel in channels[row.assignment_id]
            if row.state == DeliveryState.WITHDRAWN and current:
                revive.append(row.id)
            elif row.state != DeliveryState.WITHDRAWN and not current:
                withdraw.append(row.id)
    for ids, state in ((withdraw, DeliveryState.WITHDRAWN), (revive, DeliveryState.PENDING)):
        for which in _in(conn, NOTIFICATION.c.id, ids):
            conn.execute(update(NOTIFICATION).where(which).values(state=state, updated_at=now))


def count_by_state(conn: Connection, campaign_id: int, kind: str) -> dict[str, int]:
    query = (
        select(NOTIFICATION.c.state, func.count())
        .where(NOTIFICATION.c.campaign_id == campaign_id, NOTIFICATION.c.kind == kind)
        .group_by(NOTIFICATION.c.state)
    )
    return {state: int(n) for state, n in conn.execute(query)}


def sendable_ids(conn: Connection, campaign_id: int, kind: str) -> list[int]:
    query = (
        select(NOTIFICATION.c.id)
        .where(
            NOTIFICATION.c.campaign_id == campaign_id,
            NOTIFICATION.c.kind == kind,
            NOTIFICATION.c.state.in_(UNSENT),
        )
        .order_by(NOTIFICATION.c.id)
    )
    return [int(i) for i in conn.execute(query).scalars()]


def still_unsent(conn: Connection, notification_id: int) -> bool:
    """A lock-free look before a claim: a row another sender took is skipped without a write
    transaction (two monitors at once otherwise queue on the write lock for every row)."""
    return conn.execute(_unsent_one(), {"id": notification_id}).first() is not None


@lru_cache(maxsize=1)
def _unsent_one() -> Any:
    # Built once: once per message sent, building the query cost more than running it.
    return select(NOTIFICATION.c.id).where(
        NOTIFICATION.c.id == bindparam("id"), NOTIFICATION.c.state.in_(UNSENT)
    )


def claim(conn: Connection, ids: Sequence[int], now: datetime) -> list[int]:
    """Mark messages as being sent (see `delivery.claim`); only while the unit still owes its
    summary, so one that submits meanwhile is not reminded."""
    return delivery.claim(conn, NOTIFICATION, ids, now, _still_wanted())


def record_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    delivery.mark_sent(conn, NOTIFICATION, ids, now)


def record_failed(
    conn: Connection,
    failures: Sequence[tuple[int, str]],
    now: datetime,
    misconfigured: Collection[int] = (),
) -> None:
    delivery.mark_failed(conn, NOTIFICATION, failures, now, misconfigured)


def recheck_misconfigured(conn: Connection, campaign_id: int, now: datetime) -> int:
    """A launch run again (the coordinator has fixed the file or the bot) tries the
    campaign's misconfigured messages once more (see `delivery.recheck_misconfigured`)."""
    which = NOTIFICATION.c.campaign_id == campaign_id
    return delivery.recheck_misconfigured(conn, NOTIFICATION, now, which)


def release_unconfirmed(
    conn: Connection, campaign_id: int, now: datetime, kind: str | None = None
) -> int:
    """The campaign's messages (of `kind`) left `sending`, released (see `delivery.release`)."""
    which = [NOTIFICATION.c.campaign_id == campaign_id]
    if kind is not None:
        which.append(NOTIFICATION.c.kind == kind)
    return delivery.release(conn, NOTIFICATION, now, *which)


@dataclass(frozen=True)
class Outgoing:
    """Everything needed to render and send one ledger row."""

    notification_id: int
    kind: str
    channel: str
    recipient: str
    assignment_id: int
    due_at: datetime
    department_code: str
    department_name: str
    department_contact: str | None
    duties: list[str]
    salt: str | None
    token_hash: str | None
    slug: str
    campaign_spec: CampaignSettings
    note: str | None = None
    acknowledged_at: datetime | None = None
    department_phone: str | None = None  # a mobile is @-ed by the bots that can


def outgoing(conn: Connection, ids: Sequence[int]) -> list[Outgoing]:
    # The assignment's live link, probed by its key for each row: a grouped subquery over
    # every token made each batch read the whole campaign's tokens (a 50,000-unit launch
    # spent most of its sending in it, growing with the campaign).
    live = (
        select(func.max(TOKEN.c.id))
        .where(TOKEN.c.assignment_id == ASSIGNMENT.c.id, TOKEN.c.revoked_at.is_(None))
        .correlate(ASSIGNMENT)
        .scalar_subquery()
    )
    specs: dict[int, tuple[str, CampaignSettings]] = {}
    out: list[Outgoing] = []
    for chunk in _chunks(ids):
        query = (
            select(
                NOTIFICATION.c.id,
                NOTIFICATION.c.kind,
                NOTIFICATION.c.channel,
                NOTIFICATION.c.recipient,
                NOTIFICATION.c.campaign_id,
                NOTIFICATION.c.note,
                ASSIGNMENT.c.id.label("assignment_id"),
                ASSIGNMENT.c.due_at,
                ASSIGNMENT.c.acknowledged_at,
                DEPARTMENT.c.code,
                DEPARTMENT.c.name,
                DEPARTMENT.c.person,
                DEPARTMENT.c.phone,
                DEPARTMENT.c.duties,
                TOKEN.c.salt,
                TOKEN.c.token_hash,
            )
            .select_from(MESSAGE_UNIT)
            .outerjoin(TOKEN, TOKEN.c.id == live)
            .where(NOTIFICATION.c.id.in_(chunk))
            .order_by(NOTIFICATION.c.id)
        )
        for row in conn.execute(query):
            if row.campaign_id not in specs:
                c = conn.execute(
                    select(CAMPAIGN.c.slug, CAMPAIGN.c.spec).where(CAMPAIGN.c.id == row.campaign_id)
                ).one()
                specs[row.campaign_id] = (c.slug, c.spec)
            slug, spec = specs[row.campaign_id]
            out.append(
                Outgoing(
                    notification_id=int(row.id),
                    kind=row.kind,
                    channel=row.channel,
                    recipient=row.recipient,
                    assignment_id=int(row.assignment_id),
                    due_at=to_utc(row.due_at),
                    department_code=row.code,
                    department_name=row.name,
                    department_contact="，".join(x for x in (row.person, row.phone) if x) or None,
                    department_phone=row.phone,
                    duties=list(row.duties),
                    salt=row.salt,
                    token_hash=row.token_hash,
                    slug=slug,
                    campaign_spec=spec,
                    note=row.note,
                    acknowledged_at=to_utc(row.acknowledged_at) if row.acknowledged_at else None,
                )
            )
    return out


@lru_cache(maxsize=1)  # one object, so that `delivery.claim` reuses its statement
def _still_wanted() -> Any:
    """A message is still worth sending if it is the coordinator's own (a return, a new
    deadline, a new link: they go out whatever the unit's status) or if the unit still owes
    its summary (the ladder only chases those). One rule for the claim and for the retries."""
    # Correlated, so each message probes one assignment by its key; an IN (subquery) made
    # SQLite list every open assignment for every message.
    owed = (
        select(ASSIGNMENT.c.id)
        .where(
            ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id,
            ASSIGNMENT.c.status.in_(OPEN_STATUSES),
        )
        .correlate(NOTIFICATION)  # only the message: a query that joins assignment too
        .exists()
    )
    return owed | ~_is_rung()


def _is_rung() -> Any:
    return is_rung_sql(NOTIFICATION.c.kind)
