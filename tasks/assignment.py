"""Registering a campaign and fanning out one duty assignment per department, in batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from config.campaign.deadlines import check_due_after, due_instant
from config.campaign.loader import CampaignFile, load_campaign_file
from models import queries as q
from models.db import get_engine
from models.kinds import NOTICE
from tasks.messages.tokens import new_link, secret_key


@dataclass(frozen=True)
class Registered:
    campaign_id: int
    due_at: datetime
    created: bool
    absent_codes: list[str]  # departments in the database that the file no longer lists


@dataclass(frozen=True)
class BatchResult:
    assignments_created: int
    messages_planned: int


def check_deadline(loaded: CampaignFile, now: datetime) -> None:
    """The deadline check of `register_campaign`, read-only, for a command to run before it
    starts a flow."""
    with get_engine().connect() as conn:
        existing = q.campaign_by_slug(conn, loaded.campaign.slug)
    check_due_after(
        loaded, due_instant(loaded.campaign), existing["launched_at"] if existing else now
    )


@task(name="load-campaign-file", cache_policy=NO_CACHE)
def load_campaign(path: str) -> CampaignFile:
    """The campaign file validated; or, when `duban launch` validated these very bytes a
    moment ago in this process, what it validated (see `load_campaign_file`)."""
    return load_campaign_file(path)


@task(name="register-campaign", cache_policy=NO_CACHE)
def register_campaign(loaded: CampaignFile, now: datetime) -> Registered:
    """Create the campaign, or refresh it from the file; checks the deadline before writing."""
    campaign = loaded.campaign
    due_at = due_instant(campaign)
    engine = get_engine()
    values: dict[str, Any] = {
        "title": campaign.title,
        "timezone": campaign.timezone,
        "due_at": due_at,
        "updated_at": now,
        "source_path": str(loaded.path),
        "spec": campaign.settings(),
    }
    with engine.begin() as conn:
        existing = q.campaign_by_slug(conn, campaign.slug)
        if existing is None:
            check_due_after(loaded, due_at, now)
            new_id = q.insert_campaign(conn, {**values, "slug": campaign.slug, "launched_at": now})
            if new_id is not None:
                return Registered(new_id, due_at, True, [])
            # Another launch of the same campaign created it a moment ago: update that one.
            existing = q.campaign_by_slug(conn, campaign.slug)
            assert existing is not None
        check_due_after(loaded, due_at, existing["launched_at"])
        campaign_id = int(existing["id"])
        q.update_campaign(conn, campaign_id, values)
        if existing["due_at"] != due_at:
            q.move_open_deadlines(conn, campaign_id, existing["due_at"], due_at, now)
        listed = {d.code for d in campaign.departments}
        absent = sorted(set(q.department_codes(conn, campaign_id)) - listed)
        q.mark_departments_absent(conn, campaign_id, absent, now)
    return Registered(campaign_id, due_at, False, absent)


@task(name="fan-out-assignments", cache_policy=NO_CACHE)
def fan_out(
    campaign_id: int,
    departments: list[dict[str, Any]],
    due_at: datetime,
    now: datetime,
    batch_number: int = 0,
) -> BatchResult:
    """One transaction per batch: departments, their assignments, links and planned notices.

    Every statement skips what exists, so a second launch of the same file writes nothing new
    and a department added since gets its assignment and notice, and only it.
    """
    key = secret_key()
    engine = get_engine()
    with engine.begin() as conn:
        rows = [
            {
                "campaign_id": campaign_id,
                "code": d["code"],
                "name": d["name"],
                "person": d.get("person"),
                "phone": d.get("phone"),
                "notify": d["notify"],
                "duties": d.get("duties", []),
                "head_notify": d["head_notify"],
                "in_file": True,
            }
            for d in departments
        ]
        placed = q.upsert_departments(conn, rows)
        department_ids = [p.department_id for p in placed.values()]
        new = q.insert_assignments(conn, campaign_id, department_ids, due_at, now)
        created = len(new)
        # An assignment made by this transaction has no link and no message yet (no other
        # transaction can refer to it before it commits): only the others are looked up.
        known = [d for d in department_ids if d not in new]
        by_department = {**new, **q.assignment_ids(conn, known)}
        existing = [by_department[d] for d in known]
        with_link = q.live_token_salts(conn, existing)
        tokens = [
            new_link(key, by_department[d], now)
            for d in department_ids
            if by_department[d] not in with_link
        ]
        q.insert_tokens(conn, tokens)
        # The addresses in the database, not the file's: a unit reassigned from the dashboard
        # keeps its new contact.
        channels = {by_department[p.department_id]: p.notify for p in placed.values()}
        q.sync_planned(conn, NOTICE, {a: channels[a] for a in existing}, now)
        # A reassigned unit's new contact had the notice, with its new link, on reassignment.
        reassigned = {by_department[p.department_id] for p in placed.values() if p.reassigned}
        ledger = [
            q.ledger_row(campaign_id, assignment_id, NOTICE, channel, now)
            for assignment_id, notify in channels.items()
            if assignment_id not in reassigned
            for channel in notify
        ]
        planned = q.insert_ledger_rows(conn, ledger)
        if batch_number in (1, 4, 16, 64):  # the tables have grown since they were planned
            q.refresh_statistics(conn)
    return BatchResult(created, planned)


def department_batches(loaded: CampaignFile, size: int) -> list[list[dict[str, Any]]]:
    """The file's departments as plain dicts (tags resolved), `size` to a batch."""
    campaign = loaded.campaign
    rows = [
        {
            **d.model_dump(mode="json", exclude={"head"}),
            "notify": campaign.resolve(d.notify),
            "head_notify": campaign.resolve(d.head.notify) if d.head else [],
        }
        for d in campaign.departments
    ]
    return [rows[i : i + size] for i in range(0, len(rows), size)]


@task(name="count-notices", cache_policy=NO_CACHE)
def notice_states(campaign_id: int) -> dict[str, int]:
    with get_engine().connect() as conn:
        return q.count_by_state(conn, campaign_id, NOTICE)
