"""Coordinator accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from config.clock import to_utc
from models.queries._sql import COORDINATOR, _insert


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
