"""The units of a campaign, as a launch writes them: departments, their assignments and
the links they reach the campaign by."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, case, cast, null, select, update

from models.queries._sql import (
    ASSIGNMENT,
    DEPARTMENT,
    NOTIFICATION,
    TOKEN,
    _batch_insert,
    _chunks,
    _in,
)
from models.queries.delivery import UNSENT
from models.tables import AssignmentStatus, DeliveryState


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
