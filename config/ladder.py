"""The escalation ladder: when a department that has not delivered is chased, and by whom.

Each rung is placed in working days relative to the deadline's day (a deadline on a holiday
counts from the next working day), or in hours relative to the deadline itself; either way a
moment outside office hours is held until they next open.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

import pendulum
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from config.calendars import WorkCalendar
from config.clock import local, to_utc

Recipient = Literal["department", "coordinator", "head", "leaders"]
Wording = Literal["reminder", "urgent", "overdue", "escalation"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfficeHours(_Strict):
    """When messages may go out: these hours on working days. Outside them, messages wait."""

    start: time = time(8, 30)
    end: time = time(17, 30)

    @model_validator(mode="after")
    def _ordered(self) -> OfficeHours:
        if self.end <= self.start:
            raise ValueError("office hours must end after they start")
        return self


class Rung(_Strict):
    # Part of each reminder's ledger key (`models.kinds`): no separator can slip in.
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,15}$")]
    days: int | None = Field(default=None, ge=-60, le=60)
    hours: float | None = Field(default=None, ge=-720, le=720)
    at: time | None = None  # time of day for a `days` rung; default: when office hours open
    to: list[Recipient] = Field(default=["department"], min_length=1)
    wording: Wording = "reminder"
    # `sms`: only the recipients' SMS numbers are told (a recipient with none is told on its
    # other channels, so nobody goes untold); unset: every channel of each recipient.
    via: Literal["sms"] | None = None
    # A 督办 sets a new time limit, as a real one does: the unit (or its head) is asked to
    # deliver within this many working days of the message, with a written explanation of
    # the delay. Unset: it asks for delivery at once.
    reply_within: int | None = Field(default=None, ge=1, le=30)

    @model_validator(mode="after")
    def _one_offset(self) -> Rung:
        if (self.days is None) == (self.hours is None):
            raise ValueError("give either `days` (working days) or `hours`, not both")
        if self.hours is not None and self.at is not None:
            raise ValueError("`at` goes with `days`, not with `hours`")
        return self


DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung(name="reminder", days=-3, to=["department"], wording="reminder"),
    Rung(name="urgent", days=0, to=["department"], wording="urgent"),
    Rung(
        name="overdue",
        days=1,
        to=["department", "coordinator"],
        wording="overdue",
        reply_within=2,
    ),
    Rung(name="escalation", days=3, to=["head", "leaders"], wording="escalation", reply_within=1),
)


def hold(moment: datetime, timezone: str, hours: OfficeHours, calendar: WorkCalendar) -> datetime:
    """`moment` if it falls in office hours on a working day, else when they next open."""
    t = local(moment, timezone)
    day: date = date(t.year, t.month, t.day)
    clock = t.time().replace(tzinfo=None)
    if calendar.is_working_day(day) and hours.start <= clock < hours.end:
        return to_utc(t)
    opening_day: date
    if calendar.is_working_day(day) and clock < hours.start:
        opening_day = day
    else:
        opening_day = calendar.on_or_after(day + timedelta(days=1))
    return _at(opening_day, hours.start, timezone)


def hold_back(
    moment: datetime, timezone: str, hours: OfficeHours, calendar: WorkCalendar
) -> datetime:
    """`moment` if it falls in office hours on a working day, else when office hours opened
    on that working day, or on the working day before it."""
    t = local(moment, timezone)
    day = date(t.year, t.month, t.day)
    clock = t.time().replace(tzinfo=None)
    if calendar.is_working_day(day) and hours.start <= clock < hours.end:
        return to_utc(t)
    if not (calendar.is_working_day(day) and clock >= hours.end):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return _at(day, hours.start, timezone)


def rung_time(
    rung: Rung,
    due_at: datetime,
    timezone: str,
    hours: OfficeHours,
    calendar: WorkCalendar,
) -> datetime:
    """When `rung` falls due for an assignment due at `due_at`."""
    if rung.hours is not None:
        moment = to_utc(due_at) + timedelta(hours=rung.hours)
        if rung.hours < 0:
            # Held forward, a reminder meant for before the deadline would land after it:
            # it goes out when that working day's office hours open instead (or the last
            # working day's, if it falls on a day off).
            return hold_back(moment, timezone, hours, calendar)
    else:
        assert rung.days is not None
        deadline_day = calendar.on_or_after(local(due_at, timezone).date())
        day = calendar.shift(deadline_day, rung.days)
        moment = _at(day, rung.at or hours.start, timezone)
    return hold(moment, timezone, hours, calendar)


def _at(day: date, at: time, timezone: str) -> datetime:
    return to_utc(pendulum.datetime(day.year, day.month, day.day, at.hour, at.minute, tz=timezone))
