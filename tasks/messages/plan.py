"""Which ledger rows a run sends: the batches of a campaign's sendable messages, and the
unconfirmed ones a coordinator asks to make sendable again after a sender was killed."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from models import queries as q
from models.db import get_engine


@task(name="plan-send-batches", cache_policy=NO_CACHE)
def sendable_batches(campaign_id: int, kind: str, size: int) -> list[list[int]]:
    with get_engine().connect() as conn:
        ids = q.sendable_ids(conn, campaign_id, kind)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@task(name="release-unconfirmed", cache_policy=NO_CACHE)
def release_unconfirmed(
    now: datetime, campaign_id: int | None = None, kind: str | None = None
) -> int:
    """On request, after a sender was killed mid-send: make its unconfirmed messages
    sendable again (the coordinator has checked that no other sender is running). One
    campaign's (a launch: its notices) or every open campaign's (the monitor)."""
    with get_engine().begin() as conn:
        ids = (
            [campaign_id] if campaign_id is not None else [c["id"] for c in q.open_campaigns(conn)]
        )
        released = sum(q.release_unconfirmed(conn, c, now, kind) for c in ids)
        if kind is None:  # the monitor: the reports it sends too
            released += sum(q.release_unconfirmed_reports(conn, c, now) for c in ids)
        return released


@task(name="recheck-misconfigured", cache_policy=NO_CACHE)
def recheck_misconfigured(campaign_id: int, now: datetime) -> int:
    """A launch run again is the coordinator's word that the channels were looked at: the
    campaign's messages refused as misconfigured are tried once more (the monitor never
    retries them by itself)."""
    with get_engine().begin() as conn:
        return q.recheck_misconfigured(conn, campaign_id, now)
