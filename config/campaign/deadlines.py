"""When a campaign's work is due: the deadline written in the file (or a unit's extension) as
an instant, and the refusal of a deadline that has already passed."""

from __future__ import annotations

from datetime import date, datetime

import pendulum

from config.calendars import WorkCalendar
from config.campaign.loader import CampaignFile
from config.campaign.schema import CampaignSettings
from config.clock import end_of_day, format_local, to_utc


def due_instant(campaign: CampaignSettings, calendar: WorkCalendar | None = None) -> datetime:
    """The campaign's deadline as an instant (see `deadline_at`)."""
    return deadline_at(campaign.due, campaign.timezone, calendar)


def deadline_at(
    due: date | datetime, timezone: str, calendar: WorkCalendar | None = None
) -> datetime:
    """A date means the end of that day in `timezone`; a time without an offset is read in
    that timezone too. A deadline on a holiday or a weekend moves to the next working day,
    as an office's deadline does (a 10-3 deadline falls after National Day). The same rule
    for a campaign's deadline and for one unit's extension."""
    calendar = calendar or WorkCalendar()
    if isinstance(due, datetime):
        moment = pendulum.instance(due, tz=timezone)
        day = calendar.on_or_after(moment.date())
        return to_utc(moment.add(days=(day - moment.date()).days))
    return end_of_day(calendar.on_or_after(due), timezone)


def check_due_after(loaded: CampaignFile, due_at: datetime, launched_at: datetime) -> None:
    """A due date before the launch is a typo (the wrong year, most often): refuse it."""
    if due_at <= launched_at:
        launch = format_local(launched_at, loaded.campaign.timezone)
        raise loaded.error(
            ("due",), f"the deadline {loaded.campaign.due} is before the launch ({launch})"
        )
