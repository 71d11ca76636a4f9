"""Every SQL statement duban runs. Functions take a `Connection` so that a caller can put
several of them in one transaction; all of them work on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from config.clock import to_utc
from models.tables import (
    NOTICE,
    OPEN_STATUSES,
    Assignment,
    AssignmentStatus,
    Campaign,
    DeliveryState,
    Department,
    LinkToken,
    Notification,
)

CAMPAIGN: Table = Campaign.__table__  # type: ignore[attr-defined]
DEPARTMENT: Table = Department.__table__  # type: ignore[attr-defined]
ASSIGNMENT: Table = Assignment.__table__  # type: ignore[attr-defined]
TOKEN: Table = LinkToken.__table__  # type: ignore[attr-defined]
NOTIFICATION: Table = Notification.__table__  # type: ignore[attr-defined]

UNSENT = (DeliveryState.PENDING, DeliveryState.FAILED)
MAX_ATTEMPTS = 8

# SQLite allows 32,766 bound variables per statement; stay well below it.
CHUNK = 900


def _insert(conn: Connection, table: Table) -> Any:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


def _insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose unique key is new; returns how many were new. One statement
    executed for many rows (SQLAlchemy batches them), not a statement built per row."""
    if not rows:
        return 0
    stmt = _insert(conn, table).on_conflict_do_nothing().returning(table.c.id)
    # Counted from RETURNING: psycopg reports rowcount -1 for such batches.
    return len(conn.execute(stmt, rows).all())


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- campaigns ---------------------------------------------------------------------------


def campaign_by_slug(conn: Connection, slug: str) -> dict[str, Any] | None:
    row = conn.execute(select(CAMPAIGN).where(CAMPAIGN.c.slug == slug)).mappings().first()
    return _utc(dict(row)) if row else None


def insert_campaign(conn: Connection, values: dict[str, Any]) -> int | None:
    """The new campaign's id, or None when another launch created it a moment ago."""
    stmt = _insert(conn, CAMPAIGN).values(**values).on_conflict_do_nothing()
    found = conn.execute(stmt.returning(CAMPAIGN.c.id)).scalar_one_or_none()
    return int(found) if found is not None else None


def update_campaign(conn: Connection, campaign_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(CAMPAIGN).where(CAMPAIGN.c.id == campaign_id).values(**values))


def move_open_deadlines(
    conn: Connection, campaign_id: int, old_due: datetime, new_due: datetime, now: datetime
) -> None:
    """A new campaign deadline applies to every assignment still on the old one."""
    conn.execute(
        update(ASSIGNMENT)
        .where(ASSIGNMENT.c.campaign_id == campaign_id, ASSIGNMENT.c.due_at == old_due)
        .values(due_at=new_due, updated_at=now)
    )


# --- departments and assignments ---------------------------------------------------------


def upsert_departments(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert new departments; refresh name, contacts and duties of known ones. Returns
    code -> id for every row, new or known, from the statement itself (no second lookup)."""
    if not rows:
        return {}
    stmt = _insert(conn, DEPARTMENT)
    stmt = stmt.on_conflict_do_update(
        index_elements=["campaign_id", "code"],
        set_={
            k: stmt.excluded[k]
            for k in ("name", "person", "phone", "notify", "duties", "head_notify", "in_file")
        },
    ).returning(DEPARTMENT.c.code, DEPARTMENT.c.id)
    return {code: int(i) for code, i in conn.execute(stmt, rows)}


def refresh_statistics(conn: Connection) -> None:
    """PostgreSQL plans from table statistics: while tables grow from empty during a large
    launch, stale ones make it scan whole tables for every batch (11x slower at 50,000)."""
    if conn.dialect.name == "postgresql":
        for table in (DEPARTMENT, ASSIGNMENT, TOKEN, NOTIFICATION):
            conn.exec_driver_sql(f"ANALYZE {table.name}")


def department_codes(conn: Connection, campaign_id: int) -> list[str]:
    query = select(DEPARTMENT.c.code).where(
        DEPARTMENT.c.campaign_id == campaign_id, DEPARTMENT.c.in_file.is_(True)
    )
    return list(conn.execute(query).scalars())


def mark_departments_absent(
    conn: Connection, campaign_id: int, codes: Sequence[str], now: datetime
) -> None:
    """Departments taken out of the file are kept, and their unsent messages withdrawn."""
    for chunk in _chunks(codes):
        conn.execute(
            update(DEPARTMENT)
            .where(DEPARTMENT.c.campaign_id == campaign_id, DEPARTMENT.c.code.in_(chunk))
            .values(in_file=False)
        )
        of_absent = (
            select(ASSIGNMENT.c.id)
            .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
            .where(DEPARTMENT.c.campaign_id == campaign_id, DEPARTMENT.c.code.in_(chunk))
        )
        conn.execute(
            update(NOTIFICATION)
            .where(
                NOTIFICATION.c.assignment_id.in_(of_absent),
                NOTIFICATION.c.state.in_(UNSENT),
            )
            .values(state=DeliveryState.WITHDRAWN, updated_at=now)
        )


def insert_assignments(
    conn: Connection,
    campaign_id: int,
    department_ids: Sequence[int],
    due_at: datetime,
    now: datetime,
) -> int:
    """One assignment per department; existing ones are left as they are. Returns new ones."""
    rows = [
        {
            "campaign_id": campaign_id,
            "department_id": d,
            "status": AssignmentStatus.ASSIGNED,
            "due_at": due_at,
            "created_at": now,
            "updated_at": now,
        }
        for d in department_ids
    ]
    return _insert_new(conn, ASSIGNMENT, rows)


def assignment_ids(conn: Connection, department_ids: Sequence[int]) -> dict[int, int]:
    """department_id -> assignment_id."""
    out: dict[int, int] = {}
    for chunk in _chunks(department_ids):
        query = select(ASSIGNMENT.c.department_id, ASSIGNMENT.c.id).where(
            ASSIGNMENT.c.department_id.in_(chunk)
        )
        out.update({int(d): int(a) for d, a in conn.execute(query)})
    return out


# --- link tokens ---------------------------------------------------------------------------


def live_token_salts(conn: Connection, assignment_ids: Sequence[int]) -> dict[int, str]:
    """assignment_id -> salt of its link that is not revoked (newest if several)."""
    out: dict[int, str] = {}
    for chunk in _chunks(assignment_ids):
        query = (
            select(TOKEN.c.assignment_id, TOKEN.c.salt)
            .where(TOKEN.c.assignment_id.in_(chunk), TOKEN.c.revoked_at.is_(None))
            .order_by(TOKEN.c.id)
        )
        out.update({int(a): s for a, s in conn.execute(query)})
    return out


def insert_tokens(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(TOKEN.insert(), rows)


def assignment_for_token_hash(conn: Connection, token_hash: str) -> int | None:
    query = select(TOKEN.c.assignment_id).where(
        TOKEN.c.token_hash == token_hash, TOKEN.c.revoked_at.is_(None)
    )
    found = conn.execute(query).scalar_one_or_none()
    return int(found) if found is not None else None


# --- the notification ledger ---------------------------------------------------------------


def insert_ledger_rows(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Plan messages; a message already planned (same assignment, kind, channel) is skipped."""
    return _insert_new(conn, NOTIFICATION, rows)


def sync_planned(
    conn: Connection, kind: str, channels: dict[int, list[str]], now: datetime
) -> None:
    """Match unsent messages to each assignment's current channels: a channel taken out of
    the file is withdrawn (a wrong address is not retried for ever), one put back revives."""
    withdraw: list[int] = []
    revive: list[int] = []
    for chunk in _chunks(list(channels)):
        query = select(
            NOTIFICATION.c.id,
            NOTIFICATION.c.assignment_id,
            NOTIFICATION.c.channel,
            NOTIFICATION.c.state,
        ).where(
            NOTIFICATION.c.assignment_id.in_(chunk),
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
        for chunk in _chunks(ids):
            conn.execute(
                update(NOTIFICATION)
                .where(NOTIFICATION.c.id.in_(chunk))
                .values(state=state, updated_at=now)
            )


def count_by_state(conn: Connection, campaign_id: int, kind: str) -> dict[str, int]:
    query = (
        select(NOTIFICATION.c.state, func.count())
        .where(NOTIFICATION.c.campaign_id == campaign_id, NOTIFICATION.c.kind == kind)
        .group_by(NOTIFICATION.c.state)
    )
    return {state: int(n) for state, n in conn.execute(query)}


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


def claim(conn: Connection, ids: Sequence[int], now: datetime) -> list[int]:
    """Mark messages as being sent. Only rows still pending or failed are taken, so two
    senders racing for the same rows each get a disjoint share; and only while the unit still
    owes its summary, so one that submits meanwhile is not reminded."""
    # Correlated, so each claim probes one assignment by its key; an IN (subquery) made
    # SQLite list every open assignment for every message.
    still_open = (
        select(ASSIGNMENT.c.id)
        .where(
            ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id,
            ASSIGNMENT.c.status.in_(OPEN_STATUSES),
        )
        .exists()
    )
    claimed: list[int] = []
    for chunk in _chunks(ids):
        stmt = (
            update(NOTIFICATION)
            .where(
                NOTIFICATION.c.id.in_(chunk),
                NOTIFICATION.c.state.in_(UNSENT),
                NOTIFICATION.c.attempts < MAX_ATTEMPTS,
                still_open,
            )
            .values(
                state=DeliveryState.SENDING,
                attempts=NOTIFICATION.c.attempts + 1,
                updated_at=now,
            )
            .returning(NOTIFICATION.c.id)
        )
        claimed.extend(int(i) for i in conn.execute(stmt).scalars())
    return claimed


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
    campaign_spec: dict[str, Any]


def outgoing(conn: Connection, ids: Sequence[int]) -> list[Outgoing]:
    live = (
        select(TOKEN.c.assignment_id, func.max(TOKEN.c.id).label("token_id"))
        .where(TOKEN.c.revoked_at.is_(None))
        .group_by(TOKEN.c.assignment_id)
        .subquery()
    )
    specs: dict[int, tuple[str, dict[str, Any]]] = {}
    out: list[Outgoing] = []
    for chunk in _chunks(ids):
        query = (
            select(
                NOTIFICATION.c.id,
                NOTIFICATION.c.kind,
                NOTIFICATION.c.channel,
                NOTIFICATION.c.recipient,
                NOTIFICATION.c.campaign_id,
                ASSIGNMENT.c.id.label("assignment_id"),
                ASSIGNMENT.c.due_at,
                DEPARTMENT.c.code,
                DEPARTMENT.c.name,
                DEPARTMENT.c.person,
                DEPARTMENT.c.phone,
                DEPARTMENT.c.duties,
                TOKEN.c.salt,
                TOKEN.c.token_hash,
            )
            .join(ASSIGNMENT, ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id)
            .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
            .outerjoin(live, live.c.assignment_id == ASSIGNMENT.c.id)
            .outerjoin(TOKEN, TOKEN.c.id == live.c.token_id)
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
                    duties=list(row.duties),
                    salt=row.salt,
                    token_hash=row.token_hash,
                    slug=slug,
                    campaign_spec=spec,
                )
            )
    return out


def record_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    # Only rows this sender claimed (`sending`) are recorded: never another sender's result.
    for chunk in _chunks(ids):
        conn.execute(
            update(NOTIFICATION)
            .where(NOTIFICATION.c.id.in_(chunk), NOTIFICATION.c.state == DeliveryState.SENDING)
            .values(state=DeliveryState.SENT, sent_at=now, updated_at=now, last_error=None)
        )


# Waits before the monitor retries a failed message, by attempts made so far; after
# MAX_ATTEMPTS the message stays failed (shown by `status`) until someone resends it.
BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))


def record_failed(conn: Connection, failures: Sequence[tuple[int, str]], now: datetime) -> None:
    attempts = NOTIFICATION.c.attempts
    retry_at = case(
        *((attempts <= n, now + wait) for n, wait in enumerate(BACKOFF[:-1], start=1)),
        else_=now + BACKOFF[-1],
    )
    for notification_id, reason in failures:
        conn.execute(
            update(NOTIFICATION)
            .where(
                NOTIFICATION.c.id == notification_id,
                NOTIFICATION.c.state == DeliveryState.SENDING,
            )
            .values(
                state=DeliveryState.FAILED,
                last_error=reason[:2000],
                updated_at=now,
                next_attempt_at=retry_at,
            )
        )


# --- the monitor ---------------------------------------------------------------------------


def open_campaigns(conn: Connection) -> list[dict[str, Any]]:
    query = select(CAMPAIGN.c.id, CAMPAIGN.c.slug, CAMPAIGN.c.spec).where(
        CAMPAIGN.c.status == "open"
    )
    return [dict(row) for row in conn.execute(query.order_by(CAMPAIGN.c.id)).mappings()]


@dataclass(frozen=True)
class OpenAssignment:
    assignment_id: int
    due_at: datetime
    notify: list[str]
    head_notify: list[str]


def open_assignments(conn: Connection, campaign_id: int) -> list[OpenAssignment]:
    """Assignments the department still owes, of departments still in the campaign file."""
    query = (
        select(ASSIGNMENT.c.id, ASSIGNMENT.c.due_at, DEPARTMENT.c.notify, DEPARTMENT.c.head_notify)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(
            ASSIGNMENT.c.campaign_id == campaign_id,
            ASSIGNMENT.c.status.in_(OPEN_STATUSES),
            DEPARTMENT.c.in_file.is_(True),
        )
        # One order for every planner: two at once insert rows in the same order, no deadlock.
        .order_by(ASSIGNMENT.c.id)
    )
    return [
        OpenAssignment(int(i), to_utc(due), list(notify), list(head or []))
        for i, due, notify, head in conn.execute(query)
    ]


def withdraw_stale_rungs(
    conn: Connection, campaign_id: int, current: dict[int, str], now: datetime
) -> int:
    """Withdraw unsent reminders that are no longer the one due: an earlier rung the monitor
    missed, a rung of a deadline since extended, or any for a unit that has delivered."""
    query = select(NOTIFICATION.c.id, NOTIFICATION.c.assignment_id, NOTIFICATION.c.kind).where(
        NOTIFICATION.c.campaign_id == campaign_id,
        NOTIFICATION.c.kind != NOTICE,
        NOTIFICATION.c.state.in_(UNSENT),
    )
    stale = [i for i, a, kind in conn.execute(query) if current.get(a) != kind]
    for chunk in _chunks(stale):
        conn.execute(
            update(NOTIFICATION)
            .where(NOTIFICATION.c.id.in_(chunk), NOTIFICATION.c.state.in_(UNSENT))
            .values(state=DeliveryState.WITHDRAWN, updated_at=now)
        )
    return len(stale)


def due_for_sending(conn: Connection, campaign_id: int, now: datetime) -> list[int]:
    """Messages to open assignments that are planned, or failed and past their backoff."""
    query = (
        select(NOTIFICATION.c.id)
        .join(ASSIGNMENT, ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(
            NOTIFICATION.c.campaign_id == campaign_id,
            ASSIGNMENT.c.status.in_(OPEN_STATUSES),
            DEPARTMENT.c.in_file.is_(True),
            NOTIFICATION.c.attempts < MAX_ATTEMPTS,
            (NOTIFICATION.c.state == DeliveryState.PENDING)
            | (
                (NOTIFICATION.c.state == DeliveryState.FAILED)
                & (
                    NOTIFICATION.c.next_attempt_at.is_(None)
                    | (NOTIFICATION.c.next_attempt_at <= now)
                )
            ),
        )
        .order_by(NOTIFICATION.c.id)
    )
    return [int(i) for i in conn.execute(query).scalars()]


# --- reading for status ----------------------------------------------------------------


def status_rows(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """One row per department: assignment status, due and delivery counts by state."""
    counts = (
        select(
            NOTIFICATION.c.assignment_id,
            func.sum(_state_is(DeliveryState.SENT)).label("sent"),
            func.sum(_state_is(DeliveryState.FAILED)).label("failed"),
            func.sum(_state_is(DeliveryState.PENDING)).label("pending"),
            func.sum(_state_is(DeliveryState.SENDING)).label("unconfirmed"),
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
            ASSIGNMENT.c.due_at,
            counts.c.sent,
            counts.c.failed,
            counts.c.pending,
            counts.c.unconfirmed,
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
        for key in ("sent", "failed", "pending", "unconfirmed"):
            item[key] = int(item[key] or 0)
        item["due_at"] = to_utc(item["due_at"])
        rows.append(item)
    return rows


def ledger_of_campaign(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """Every message of a campaign with its department's code, oldest first."""
    query = (
        select(
            DEPARTMENT.c.code,
            NOTIFICATION.c.kind,
            NOTIFICATION.c.recipient,
            NOTIFICATION.c.channel,
            NOTIFICATION.c.state,
            NOTIFICATION.c.attempts,
            NOTIFICATION.c.sent_at,
            NOTIFICATION.c.last_error,
        )
        .join(ASSIGNMENT, ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(NOTIFICATION.c.campaign_id == campaign_id)
        .order_by(NOTIFICATION.c.id)
    )
    return [_utc(dict(row)) for row in conn.execute(query).mappings()]


def _state_is(state: str) -> Any:
    return case((NOTIFICATION.c.state == state, 1), else_=0)


def _utc(row: dict[str, Any]) -> dict[str, Any]:
    return {k: to_utc(v) if isinstance(v, datetime) else v for k, v in row.items()}
