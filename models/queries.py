"""Every SQL statement duban runs. Functions take a `Connection` so that a caller can put
several of them in one transaction; all of them work on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    DateTime,
    Table,
    Text,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    null,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from config.campaign.schema import CampaignSettings
from config.clock import to_utc
from models.tables import (
    NOTICE,
    OPEN_STATUSES,
    SETTLED_STATUSES,
    Assignment,
    AssignmentStatus,
    Attachment,
    Campaign,
    CampaignReport,
    Coordinator,
    DeliveryState,
    Department,
    LinkToken,
    Notification,
    ReportDelivery,
    Submission,
)

CAMPAIGN: Table = Campaign.__table__  # type: ignore[attr-defined]
DEPARTMENT: Table = Department.__table__  # type: ignore[attr-defined]
ASSIGNMENT: Table = Assignment.__table__  # type: ignore[attr-defined]
TOKEN: Table = LinkToken.__table__  # type: ignore[attr-defined]
NOTIFICATION: Table = Notification.__table__  # type: ignore[attr-defined]
SUBMISSION: Table = Submission.__table__  # type: ignore[attr-defined]
ATTACHMENT: Table = Attachment.__table__  # type: ignore[attr-defined]
COORDINATOR: Table = Coordinator.__table__  # type: ignore[attr-defined]
REPORT: Table = CampaignReport.__table__  # type: ignore[attr-defined]
REPORT_DELIVERY: Table = ReportDelivery.__table__  # type: ignore[attr-defined]

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


def _insert_new_batch(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    constants: dict[str, Any] | None = None,
) -> int:
    """`_insert_new` for the large batches of a launch (see `_batch_insert`). `constants`
    are columns with one value for every row."""
    if not rows:
        return 0
    stmt, params = _batch_insert(conn, table, rows, constants)
    stmt = stmt.on_conflict_do_nothing()
    if isinstance(params, list):  # executemany: psycopg reports rowcount -1 for such batches
        return len(conn.execute(stmt.returning(table.c.id), params).all())
    stmt = stmt.execution_options(preserve_rowcount=True)
    return int(conn.execute(stmt, params).rowcount)


def _batch_insert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    constants: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """An INSERT of a batch and its parameters: `INSERT … SELECT FROM` one JSON document
    when the rows fit (see `_recordset`), else the rows themselves, executemany. Callers add
    their ON CONFLICT and RETURNING."""
    stmt = _insert(conn, table)
    source = _recordset(conn, table, rows, constants)
    if source is None:
        return stmt, [{**(constants or {}), **r} for r in rows]
    names, select_rows, params = source
    return stmt.from_select(names, select_rows), params


def _recordset(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    constants: dict[str, Any] | None = None,
) -> tuple[list[str], Any, dict[str, Any]] | None:
    """A batch of rows as one SELECT over one JSON document, for `INSERT … SELECT`:
    `json_to_recordset` on PostgreSQL, `json_each` on SQLite. A 500-row batch is then a
    short statement with a few parameters, compiled and parsed once per process, and its
    rows are serialised by the json module's C encoder. (As a multi-row VALUES list,
    SQLAlchemy's insertmanyvalues, it is 4,500 parameters: psycopg parsed that statement
    afresh for every batch, which cost more than the database's own work, and SQLAlchemy
    converts every value in Python.) A column with one value for every row is sent once, as
    a parameter of its own. Returns the column names, the SELECT and its parameters; None
    when the rows do not fit (not all alike in their columns, or on SQLite a timestamp that
    differs from row to row, which SQLAlchemy stores in a format of its own)."""
    first = rows[0]
    keys = first.keys()
    if any(r.keys() != keys for r in rows):
        return None
    constants = dict(constants or {})
    for name, value in first.items():
        if name not in constants and all(r[name] == value for r in rows):
            constants[name] = value
    if all(name in constants for name in first):  # one row, or all alike: keep one column
        del constants[next(iter(first))]
    varying = [name for name in first if name not in constants]
    postgres = conn.dialect.name == "postgresql"
    if not postgres and any(isinstance(table.c[n].type, DateTime) for n in varying):
        return None
    names: list[str] = [*constants, *varying]
    params: dict[str, Any] = {}
    exprs: list[Any] = []
    for i, (name, value) in enumerate(constants.items()):
        col = table.c[name]
        params[f"k{i}"] = value
        value_of = bindparam(f"k{i}", type_=col.type)
        # On SQLite a CAST to a column's type would change the value (DATETIME is NUMERIC).
        exprs.append(cast(value_of, col.type) if postgres else value_of)
    params["rows"] = json.dumps(
        [{name: r[name] for name in varying} for r in rows], default=_json_default
    )
    document = bindparam("rows", type_=Text)
    if postgres:
        recordset = (
            func.json_to_recordset(cast(document, JSON))
            .table_valued(*(column(name, table.c[name].type) for name in varying))
            .render_derived(name="u", with_types=True)
        )
        exprs.extend(recordset.c[name] for name in varying)
    else:
        recordset = func.json_each(document).table_valued("value")
        exprs.extend(func.json_extract(recordset.c.value, f"$.{name}") for name in varying)
    # WHERE true: SQLite would read the ON of ON CONFLICT as a join's otherwise.
    return names, select(*exprs).select_from(recordset).where(true()), params


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _in(conn: Connection, col: Any, values: Sequence[int]) -> Iterable[ColumnElement[bool]]:
    """`column IN values` in as few statements as each database takes: one `= ANY(array)`
    on PostgreSQL (one parameter, so one statement text whatever the count); chunks of IN
    lists on SQLite."""
    if conn.dialect.name == "postgresql":
        if values:
            array = postgresql.ARRAY(col.type)
            yield col == any_(cast(bindparam("ids", list(values), type_=array), array))
        return
    for chunk in _chunks(values):
        yield col.in_(chunk)


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


def upsert_departments(conn: Connection, rows: list[dict[str, Any]]) -> dict[str, Placed]:
    """Insert new departments; refresh name, contacts and duties of known ones, except the
    contact of a unit the coordinator reassigned from the dashboard. Returns code -> (id,
    current addresses) for every row, from the statement itself (no second lookup)."""
    if not rows:
        return {}
    stmt, params = _batch_insert(conn, DEPARTMENT, rows)
    kept = DEPARTMENT.c.reassigned_at.is_not(None)
    set_ = {k: stmt.excluded[k] for k in ("name", "duties", "head_notify", "in_file")}
    for k in ("person", "phone", "notify"):
        set_[k] = case((kept, DEPARTMENT.c[k]), else_=stmt.excluded[k])
    stmt = stmt.on_conflict_do_update(index_elements=["campaign_id", "code"], set_=set_)
    # The addresses come back only where they may differ from the file's, a reassigned
    # unit's (as text: decoding 500 JSON values per batch that the file gave cost more).
    stmt = stmt.returning(
        DEPARTMENT.c.code,
        DEPARTMENT.c.id,
        DEPARTMENT.c.reassigned_at,
        case((kept, cast(DEPARTMENT.c.notify, Text)), else_=null()),
    )
    sent = {r["code"]: r["notify"] for r in rows}
    return {
        code: Placed(
            int(i),
            list(sent[code] if reassigned is None else json.loads(current)),
            reassigned is not None,
        )
        for code, i, reassigned, current in conn.execute(stmt, params)
    }


@dataclass(frozen=True)
class Placed:
    department_id: int
    notify: list[str]
    reassigned: bool = False  # its contact was set from the dashboard, with its own notice


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
) -> dict[int, int]:
    """One assignment per department; existing ones are left as they are. Returns the new
    ones, department_id -> assignment_id."""
    if not department_ids:
        return {}
    constants = {
        "campaign_id": campaign_id,
        "status": AssignmentStatus.ASSIGNED,
        "due_at": due_at,
        "created_at": now,
        "updated_at": now,
    }
    rows = [{"department_id": d} for d in department_ids]
    returning = (ASSIGNMENT.c.department_id, ASSIGNMENT.c.id)
    stmt, params = _batch_insert(conn, ASSIGNMENT, rows, constants)
    found = conn.execute(stmt.on_conflict_do_nothing().returning(*returning), params)
    return {int(d): int(a) for d, a in found}


def assignment_ids(conn: Connection, department_ids: Sequence[int]) -> dict[int, int]:
    """department_id -> assignment_id."""
    out: dict[int, int] = {}
    for which in _in(conn, ASSIGNMENT.c.department_id, department_ids):
        query = select(ASSIGNMENT.c.department_id, ASSIGNMENT.c.id).where(which)
        out.update({int(d): int(a) for d, a in conn.execute(query)})
    return out


# --- link tokens ---------------------------------------------------------------------------


def live_token_salts(conn: Connection, assignment_ids: Sequence[int]) -> dict[int, str]:
    """assignment_id -> salt of its link that is not revoked (newest if several)."""
    out: dict[int, str] = {}
    for which in _in(conn, TOKEN.c.assignment_id, assignment_ids):
        query = (
            select(TOKEN.c.assignment_id, TOKEN.c.salt)
            .where(which, TOKEN.c.revoked_at.is_(None))
            .order_by(TOKEN.c.id)
        )
        out.update({int(a): s for a, s in conn.execute(query)})
    return out


def insert_tokens(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt, params = _batch_insert(conn, TOKEN, rows)
    conn.execute(stmt, params)


# --- the notification ledger ---------------------------------------------------------------


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


def still_unsent(conn: Connection, notification_id: int) -> bool:
    """A lock-free look before a claim: a row another sender took is skipped without a write
    transaction (two monitors at once otherwise queue on the write lock for every row)."""
    query = select(NOTIFICATION.c.id).where(
        NOTIFICATION.c.id == notification_id, NOTIFICATION.c.state.in_(UNSENT)
    )
    return conn.execute(query).first() is not None


def claim(conn: Connection, ids: Sequence[int], now: datetime) -> list[int]:
    """Mark messages as being sent. Only rows still pending or failed are taken, so two
    senders racing for the same rows each get a disjoint share; and only while the unit still
    owes its summary, so one that submits meanwhile is not reminded."""
    claimed: list[int] = []
    for chunk in _chunks(ids):
        stmt = (
            update(NOTIFICATION)
            .where(
                NOTIFICATION.c.id.in_(chunk),
                NOTIFICATION.c.state.in_(UNSENT),
                NOTIFICATION.c.attempts < MAX_ATTEMPTS,
                _still_wanted(),
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
    campaign_spec: CampaignSettings
    note: str | None = None
    acknowledged_at: datetime | None = None


def outgoing(conn: Connection, ids: Sequence[int]) -> list[Outgoing]:
    live = (
        select(TOKEN.c.assignment_id, func.max(TOKEN.c.id).label("token_id"))
        .where(TOKEN.c.revoked_at.is_(None))
        .group_by(TOKEN.c.assignment_id)
        .subquery()
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
                    note=row.note,
                    acknowledged_at=to_utc(row.acknowledged_at) if row.acknowledged_at else None,
                )
            )
    return out


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


# --- the monitor ---------------------------------------------------------------------------


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
        .join(ASSIGNMENT, ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
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
        conn.execute(
            update(NOTIFICATION)
            .where(NOTIFICATION.c.id.in_(chunk), NOTIFICATION.c.state.in_(UNSENT))
            .values(state=DeliveryState.WITHDRAWN, updated_at=now)
        )
    return len(stale)


def due_for_sending(conn: Connection, campaign_id: int, now: datetime) -> list[int]:
    """Messages still wanted (see `_still_wanted`) that are planned, or failed and past
    their backoff."""
    query = (
        select(NOTIFICATION.c.id)
        .join(ASSIGNMENT, ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(
            NOTIFICATION.c.campaign_id == campaign_id,
            _still_wanted(),
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


def _message_columns() -> tuple[Any, ...]:
    """What a ledger listing shows of each message (`status`, the unit page, the CSV)."""
    n = NOTIFICATION.c
    return (n.kind, n.recipient, n.channel, n.state, n.attempts, n.sent_at, n.last_error)


def ledger_of_campaign(conn: Connection, campaign_id: int) -> list[dict[str, Any]]:
    """Every message of a campaign with its department's code, oldest first."""
    query = (
        select(DEPARTMENT.c.code, *_message_columns())
        .join(ASSIGNMENT, ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(NOTIFICATION.c.campaign_id == campaign_id)
        .order_by(NOTIFICATION.c.id)
    )
    return [_utc(dict(row)) for row in conn.execute(query).mappings()]


# --- the department's link -----------------------------------------------------------------


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


# --- the coordinator's actions -----------------------------------------------------------


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


# --- coordinator accounts ------------------------------------------------------------------


def coordinator_by_name(conn: Connection, username: str) -> dict[str, Any] | None:
    query = select(COORDINATOR).where(COORDINATOR.c.username == username)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def coordinator_by_id(conn: Connection, coordinator_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(select(COORDINATOR).where(COORDINATOR.c.id == coordinator_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def save_coordinator(conn: Connection, username: str, password_hash: str, now: datetime) -> bool:
    """Create the account, or set a new password; True if it was created."""
    stmt = _insert(conn, COORDINATOR).values(
        username=username, password_hash=password_hash, created_at=now, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["username"],
        set_={"password_hash": password_hash, "updated_at": now},
    ).returning(COORDINATOR.c.created_at)
    created = conn.execute(stmt).scalar_one()
    return bool(to_utc(created) == now)


# --- the dashboard -------------------------------------------------------------------------

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
    state of its first notice (`notice_state`); of its other messages (reminders, escalations,
    the coordinator's actions) how many there are (`total`), delivered (`sent`), failed
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


def _utc_rows(result: Any) -> list[dict[str, Any]]:
    """A result's rows as dicts, their times in UTC. Plain tuples zipped with the keys: a
    dashboard page reads hundreds of values, and `dict(RowMapping)` cost more than the query."""
    keys = list(result.keys())
    return [_utc(dict(zip(keys, values, strict=True))) for values in result.all()]


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
    return NOTIFICATION.c.kind.like("%@%")  # see config.ladder.rung_kind


def _state_is(state: str) -> Any:
    return case((NOTIFICATION.c.state == state, 1), else_=0)


def _utc(row: dict[str, Any]) -> dict[str, Any]:
    return {k: to_utc(v) if isinstance(v, datetime) else v for k, v in row.items()}


# --- the report ------------------------------------------------------------------------------


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
    _insert_new(
        conn,
        REPORT_DELIVERY,
        [
            {
                "report_id": report_id,
                "channel": c,
                "state": DeliveryState.PENDING,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for c in channels
        ],
    )


def report_deliveries(conn: Connection, report_id: int) -> list[dict[str, Any]]:
    query = (
        select(REPORT_DELIVERY)
        .where(REPORT_DELIVERY.c.report_id == report_id)
        .order_by(REPORT_DELIVERY.c.id)
    )
    return [_utc(dict(row)) for row in conn.execute(query).mappings()]


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


def report_of(conn: Connection, report_id: int) -> dict[str, Any]:
    """The report's row, with its campaign's `slug` and `spec`."""
    query = (
        select(REPORT, CAMPAIGN.c.slug, CAMPAIGN.c.spec)
        .join(CAMPAIGN, CAMPAIGN.c.id == REPORT.c.campaign_id)
        .where(REPORT.c.id == report_id)
    )
    return _utc(dict(conn.execute(query).mappings().one()))


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
    row = REPORT_DELIVERY.c
    return (row.attempts < MAX_ATTEMPTS) & (
        (
            (row.state == DeliveryState.FAILED)
            & (row.next_attempt_at.is_(None) | (row.next_attempt_at <= now))
        )
        | ((row.state == DeliveryState.PENDING) & (row.created_at <= now - BACKOFF[0]))
    )


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
    conn.execute(
        update(REPORT_DELIVERY)
        .where(REPORT_DELIVERY.c.report_id.in_(older), REPORT_DELIVERY.c.state.in_(UNSENT))
        .values(state=DeliveryState.WITHDRAWN, updated_at=now)
    )


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
        .join(ASSIGNMENT, ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id)
        .join(DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id)
        .where(
            NOTIFICATION.c.campaign_id == campaign_id,
            NOTIFICATION.c.state == DeliveryState.SENT,
            NOTIFICATION.c.sent_at >= start,
            NOTIFICATION.c.sent_at < end,
        )
        .order_by(NOTIFICATION.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
