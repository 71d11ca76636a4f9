"""When the final report makes itself: once every unit is accepted, or at the campaign's report
time (default: three working days after the deadline's day, when office hours open)."""

from __future__ import annotations

from datetime import datetime

import pendulum
from prefect import task
from prefect.cache_policies import NO_CACHE

from config.calendars import WorkCalendar
from config.campaign.schema import CampaignSettings
from config.clock import local, to_utc
from models import queries as q
from models.db import get_engine


def report_time(spec: CampaignSettings, due_at: datetime, calendar: WorkCalendar) -> datetime:
    """Never before the deadline: a report day on the deadline's day waits for it to pass."""
    tz, hours, schedule = spec.timezone, spec.office_hours, spec.report
    at = schedule.at
    if isinstance(at, datetime):  # a moment; without an offset, in the campaign's timezone
        return max(to_utc(pendulum.instance(at, tz=tz)), due_at)
    if at is not None:
        day = calendar.on_or_after(at)
    else:
        deadline_day = local(due_at, tz).date()
        day = calendar.shift(calendar.on_or_after(deadline_day), schedule.days)
    opening = pendulum.datetime(
        day.year, day.month, day.day, hours.start.hour, hours.start.minute, tz=tz
    )
    return max(to_utc(opening), due_at)


@task(name="reports-due", cache_policy=NO_CACHE)
def reports_due(now: datetime) -> list[str]:
    """Open campaigns whose final report has not been made and is due now."""
    calendar = WorkCalendar()
    due = []
    with get_engine().connect() as conn:
        for campaign in q.open_campaigns(conn):
            if q.final_report_made(conn, campaign["id"]):
                continue
            # A unit's extension past the campaign's deadline moves the report with it.
            latest = q.latest_open_due(conn, campaign["id"]) or campaign["due_at"]
            when = report_time(campaign["spec"], max(latest, campaign["due_at"]), calendar)
            if now >= when or q.all_accepted(conn, campaign["id"]):
                due.append(campaign["slug"])
    return due
