"""Launch: validate the campaign file, fan out assignments, send every department its notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from config.campaign_file import load_campaign_file
from config.clock import now as clock_now
from config.settings import get_settings
from tasks.assignment import NOTICE, department_batches, fan_out_task, register_campaign_task
from tasks.notification import SendReport, send_batch_task, sendable_batches_task

load_campaign_task = task(name="load-campaign-file", cache_policy=NO_CACHE)(load_campaign_file)


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
    delivery: SendReport = field(default_factory=SendReport)


@flow(name="launch", log_prints=True)
def launch_flow(path: str, now: datetime | None = None) -> LaunchSummary:
    settings = get_settings()
    loaded = load_campaign_task(path)
    registered = register_campaign_task(loaded, clock_now(now))
    created = planned = 0
    for batch in department_batches(loaded, settings.batch_size):
        result = fan_out_task(registered.campaign_id, batch, registered.due_at, clock_now(now))
        created += result.assignments_created
        planned += result.messages_planned
    delivery = SendReport()
    for ids in sendable_batches_task(registered.campaign_id, NOTICE, settings.batch_size):
        delivery.merge(send_batch_task(ids, now))
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
        delivery=delivery,
    )
