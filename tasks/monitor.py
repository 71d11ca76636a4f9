"""The deadline monitor's decisions: which rung of the ladder each open assignment is due,
planned in the ledger so that it is sent exactly once.

Only the rung due now is planned. After the monitor has been down for days it sends the one
rung that applies today, not every rung it missed; those, if planned and unsent, are withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from config.calendars import WorkCalendar
from config.campaign.schema import CampaignSettings
from config.campaign.sms import is_sms
from config.ladder import Rung, hold, rung_time
from models import queries as q
from models.db import get_engine
from models.kinds import rung_kind


@dataclass
class CampaignPlan:
    campaign_id: int
    slug: str
    in_office_hours: bool
    planned: int = 0  # new ledger rows
    withdrawn: int = 0
    by_rung: dict[str, int] = field(default_factory=dict)  # assignments at each rung now


def current_rung(
    spec: CampaignSettings, due_at: datetime, now: datetime, calendar: WorkCalendar
) -> Rung | None:
    """The latest rung whose time has come for an assignment due at `due_at`."""
    timed = sorted(
        (
            (rung_time(r, due_at, spec.timezone, spec.office_hours, calendar), i, r)
            for i, r in enumerate(spec.escalation)
        ),
        key=lambda t: (t[0], t[1]),
    )
    due = [r for moment, _, r in timed if moment <= now]
    return due[-1] if due else None


def recipients(
    rung: Rung, contacts: dict[str, list[str]], notify: list[str], head_notify: list[str]
) -> list[tuple[str, str]]:
    """(recipient, channel) pairs for a rung; an escalation with nobody above the department
    to tell goes to the coordinator, and failing that to the department itself. A rung `via:
    sms` goes to each recipient's SMS numbers, or to its other channels if it has none."""
    out: list[tuple[str, str]] = []
    for who in rung.to:
        addresses = {"department": notify, "head": head_notify, **contacts}[who]
        if rung.via == "sms":
            addresses = [a for a in addresses if is_sms(a)] or addresses
        out.extend((who, a) for a in addresses)
    if not out:
        out = [("coordinator", a) for a in contacts["coordinator"]]
        out = out or [("department", a) for a in notify]
    return list(dict.fromkeys(out))


@task(name="plan-reminders", cache_policy=NO_CACHE)
def plan_reminders(now: datetime) -> list[CampaignPlan]:
    """One pass of decisions over every open campaign, recorded in the ledger."""
    calendar = WorkCalendar()
    plans = []
    engine = get_engine()
    with engine.connect() as conn:
        campaigns = q.open_campaigns(conn)
    for campaign in campaigns:
        spec: CampaignSettings = campaign["spec"]
        plan = CampaignPlan(campaign["id"], campaign["slug"], False)
        plans.append(plan)
        # Outside office hours nothing is decided: what falls due waits until they open.
        if hold(now, spec.timezone, spec.office_hours, calendar) != now:
            continue
        plan.in_office_hours = True
        contacts = spec.contacts()  # resolved once per campaign
        with engine.begin() as conn:
            current: dict[datetime, str] = {}
            rows: list[dict[str, Any]] = []
            for due_at, count in q.open_deadlines(conn, campaign["id"]):
                rung = current_rung(spec, due_at, now, calendar)
                if rung is None:
                    continue
                kind = current[due_at] = rung_kind(rung.name, due_at)
                plan.by_rung[rung.name] = plan.by_rung.get(rung.name, 0) + count
                # Only units without this rung yet: a pass with nothing new reads no unit.
                for a in q.open_assignments(conn, campaign["id"], due_at, lacking=kind):
                    rows.extend(
                        q.ledger_row(campaign["id"], a.assignment_id, kind, channel, now, who)
                        for who, channel in recipients(rung, contacts, a.notify, a.head_notify)
                    )
            plan.withdrawn = q.withdraw_stale_rungs(conn, campaign["id"], current, now)
            plan.planned = q.insert_ledger_rows(conn, rows)
    return plans


@task(name="due-messages", cache_policy=NO_CACHE)
def sendable_now(plans: list[CampaignPlan], now: datetime, size: int) -> list[list[int]]:
    """Batches of ledger ids to send: planned, or failed and past their backoff."""
    ids: list[int] = []
    with get_engine().connect() as conn:
        for plan in plans:
            if plan.in_office_hours:
                ids.extend(q.due_for_sending(conn, plan.campaign_id, now))
    return [ids[i : i + size] for i in range(0, len(ids), size)]
