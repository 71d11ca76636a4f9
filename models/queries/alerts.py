"""Messages to the coordinator about the ledger itself: a channel that refused a message as
misconfigured is reported once, by a ledger row keyed by the refused message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from models.kinds import MISCONFIGURED, action_kind
from models.queries._sql import NOTIFICATION
from models.queries.ledger import insert_ledger_rows, ledger_row
from models.tables import DeliveryState


def plan_misconfigured_alerts(
    conn: Connection, refused: Sequence[tuple[int, str]], channels: Sequence[str], now: datetime
) -> list[int]:
    """For each refused message (its ledger id, what to tell), one message to each of the
    coordinator's `channels` but the refused one; the key makes a second report of the same
    refusal a no-op. Returns the ids of those not yet sent."""
    rows: list[dict[str, Any]] = []
    kinds: list[str] = []
    for notification_id, note in refused:
        source = conn.execute(
            select(
                NOTIFICATION.c.campaign_id, NOTIFICATION.c.assignment_id, NOTIFICATION.c.channel
            ).where(NOTIFICATION.c.id == notification_id)
        ).one()
        kind = action_kind(MISCONFIGURED, notification_id)
        kinds.append(kind)
        rows.extend(
            ledger_row(source.campaign_id, source.assignment_id, kind, c, now, "coordinator", note)
            for c in channels
            if c != source.channel  # the broken channel cannot carry its own report
        )
    if not rows:
        return []
    insert_ledger_rows(conn, rows)
    query = select(NOTIFICATION.c.id).where(
        NOTIFICATION.c.kind.in_(kinds), NOTIFICATION.c.state == DeliveryState.PENDING
    )
    return sorted(int(i) for i in conn.execute(query).scalars())
