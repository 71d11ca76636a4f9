"""A campaign's own row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from models.queries._sql import ASSIGNMENT, CAMPAIGN, _insert, _utc


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
