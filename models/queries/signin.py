"""Sign-in's own rows: coordinators' sessions, and the failed sign-ins counted per key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, or_, select, update

from config.clock import to_utc
from models.queries._sql import COORDINATOR, SESSION, SIGN_IN_FAILURES, _insert, _utc

# --- sessions ----------------------------------------------------------------------------------


def insert_session(conn: Connection, session_id: str, coordinator_id: int, now: datetime) -> None:
    conn.execute(
        SESSION.insert().values(
            id=session_id, coordinator_id=coordinator_id, created_at=now, last_seen_at=now
        )
    )


def session_by_id(conn: Connection, session_id: str) -> dict[str, Any] | None:
    """The session with its account's name: one primary-key read, on every dashboard page."""
    query = (
        select(
            SESSION.c.id,
            SESSION.c.coordinator_id,
            COORDINATOR.c.username,
            SESSION.c.created_at,
            SESSION.c.last_seen_at,
            SESSION.c.revoked_at,
        )
        .join(COORDINATOR, COORDINATOR.c.id == SESSION.c.coordinator_id)
        .where(SESSION.c.id == session_id)
    )
    row = conn.execute(query).mappings().first()
    return _utc(dict(row)) if row else None


def touch_session(conn: Connection, session_id: str, now: datetime) -> None:
    conn.execute(
        update(SESSION)
        .where(SESSION.c.id == session_id, SESSION.c.revoked_at.is_(None))
        .values(last_seen_at=now)
    )


def revoke_sessions(
    conn: Connection,
    now: datetime,
    *,
    session_id: str | None = None,
    coordinator_id: int | None = None,
) -> int:
    """End one session, or every open session of an account; returns how many ended."""
    stmt = update(SESSION).where(SESSION.c.revoked_at.is_(None)).values(revoked_at=now)
    if session_id is not None:
        stmt = stmt.where(SESSION.c.id == session_id)
    if coordinator_id is not None:
        stmt = stmt.where(SESSION.c.coordinator_id == coordinator_id)
    return int(conn.execute(stmt).rowcount)


def forget_sessions(conn: Connection, coordinator_id: int, made_before: datetime) -> None:
    """An account's sessions that can no longer be used: ended, or past their whole life."""
    conn.execute(
        delete(SESSION).where(
            SESSION.c.coordinator_id == coordinator_id,
            or_(SESSION.c.revoked_at.is_not(None), SESSION.c.created_at < made_before),
        )
    )


# --- failed sign-ins ---------------------------------------------------------------------------


def locked_until(conn: Connection, keys: Sequence[str], now: datetime) -> datetime | None:
    """The latest end of a lock on any of the keys, if one still holds at `now`."""
    query = select(func.max(SIGN_IN_FAILURES.c.locked_until)).where(
        SIGN_IN_FAILURES.c.key.in_(keys), SIGN_IN_FAILURES.c.locked_until > now
    )
    found = conn.execute(query).scalar_one_or_none()
    return to_utc(found) if found is not None else None


def count_failure(conn: Connection, key: str, now: datetime, forget_before: datetime) -> int:
    """One more failure under `key`; a key quiet since `forget_before` starts again at one.
    Returns the count. One statement, so that processes counting at once lose nothing."""
    table = SIGN_IN_FAILURES
    stmt = _insert(conn, table).values(key=key, failures=1, last_at=now, locked_until=None)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "failures": case((table.c.last_at < forget_before, 1), else_=table.c.failures + 1),
            "last_at": now,
        },
    ).returning(table.c.failures)
    return int(conn.execute(stmt).scalar_one())


def lock(conn: Connection, key: str, until: datetime) -> None:
    """Lock the key until `until`, unless a longer lock holds already."""
    conn.execute(
        update(SIGN_IN_FAILURES)
        .where(
            SIGN_IN_FAILURES.c.key == key,
            or_(SIGN_IN_FAILURES.c.locked_until.is_(None), SIGN_IN_FAILURES.c.locked_until < until),
        )
        .values(locked_until=until)
    )


def clear_failures(conn: Connection, keys: Sequence[str]) -> None:
    conn.execute(delete(SIGN_IN_FAILURES).where(SIGN_IN_FAILURES.c.key.in_(keys)))


def forget_failures(conn: Connection, quiet_since: datetime, now: datetime) -> None:
    """Keys with no failure since `quiet_since` and no lock left: they would start afresh."""
    conn.execute(
        delete(SIGN_IN_FAILURES).where(
            SIGN_IN_FAILURES.c.last_at < quiet_since,
            or_(SIGN_IN_FAILURES.c.locked_until.is_(None), SIGN_IN_FAILURES.c.locked_until < now),
        )
    )
