"""Launch: validate the campaign file, fan out assignments, send every department its notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow

from config.clock import now as clock_now
from config.settings import get_settings
from models.kinds import NOTICE
from models.tables import DeliveryState
from tasks.assignment import (
    department_batches,
    fan_out,
    load_campaign,
    notice_states,
    register_campaign,
)
from tasks.messages.plan import recheck_misconfigured, release_unconfirmed, sendable_batches
from tasks.messages.send import SendReport, send_batch
from tasks.progress import Counter


@dataclass
class LaunchSummary:
    slug: str
    title: str
    timezone: str
    due_at: datetime
    created: bool
    departments: int
    assignments_created: int
    messages_planned: int
    absent_codes: list[str]
    released: int = 0  # unconfirmed messages made sendable again on request
    unconfirmed: int = 0  # messages a stopped sender may or may not have delivered
    delivery: SendReport = field(default_factory=SendReport)


@flow(name="launch")
def launch_flow(
    path: str, now: datetime | None = None, resend_unconfirmed: bool = False
) -> LaunchSummary:
    """Safe to run again: only what has not been sent is sent."""
    settings = get_settings()
    loaded = load_campaign(path)
    registered = register_campaign(loaded, clock_now(now))
    released = 0
    if resend_unconfirmed:
        released = release_unconfirmed(clock_now(now), registered.campaign_id, NOTICE)
    created = planned = 0
    fanned = Counter("建立任务", len(loaded.campaign.departments))
    for number, batch in enumerate(department_batches(loaded, settings.batch_size)):
        result = fan_out(registered.campaign_id, batch, registered.due_at, clock_now(now), number)
        created += result.assignments_created
        planned += result.messages_planned
        fanned.add(len(batch))
    recheck_misconfigured(registered.campaign_id, clock_now(now))
    delivery = SendReport()
    batches = sendable_batches(registered.campaign_id, NOTICE, settings.batch_size)
    sending = Counter("发送任务通知", sum(len(ids) for ids in batches))
    for ids in batches:
        delivery.merge(send_batch(ids, now))
        sending.add(len(ids))
    states = notice_states(registered.campaign_id)
    campaign = loaded.campaign
    return LaunchSummary(
        slug=campaign.slug,
        title=campaign.title,
        timezone=campaign.timezone,
        due_at=registered.due_at,
        created=registered.created,
        departments=len(campaign.departments),
        assignments_created=created,
        messages_planned=planned,
        absent_codes=registered.absent_codes,
        released=released,
        unconfirmed=states.get(DeliveryState.SENDING, 0),
        delivery=delivery,
    )
