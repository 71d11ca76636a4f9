"""The one clock of duban: Pendulum inside, aware stdlib datetimes (UTC) outside.

`--now` and `DUBAN_NOW` replace the clock for simulation and tests. Everything stored is UTC;
conversion to a campaign's timezone happens only where a person reads a time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pendulum

from config.settings import get_settings

WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


class ClockError(ValueError):
    """A `--now` or `DUBAN_NOW` value that is not an ISO-8601 instant."""


def parse_instant(text: str, timezone: str = "UTC") -> datetime:
    """Parse ISO-8601; a value without an offset is read in `timezone`. Returns UTC."""
    try:
        parsed = pendulum.parse(text, tz=timezone, strict=False)
    except (ValueError, pendulum.parsing.exceptions.ParserError) as exc:
        raise ClockError(f"not an ISO-8601 date or time: {text!r}") from exc
    if not isinstance(parsed, pendulum.DateTime):
        if isinstance(parsed, pendulum.Date):
            parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day, tz=timezone)
        else:
            raise ClockError(f"not an ISO-8601 date or time: {text!r}")
    return to_utc(parsed)


def now(override: str | datetime | None = None) -> datetime:
    """Current instant in UTC: the override, else `DUBAN_NOW`, else the system clock."""
    if isinstance(override, datetime):
        return to_utc(override)
    settings = get_settings()
    text = override or settings.now
    if text:
        return parse_instant(text, settings.timezone)
    return to_utc(pendulum.now("UTC"))


def wall_now() -> datetime:
    """The system clock in UTC, whatever `DUBAN_NOW` says: for what measures time that really
    passes (how fast someone guesses passwords), where a clock held still would never let a
    wait end."""
    return to_utc(pendulum.now("UTC"))


def to_utc(moment: datetime) -> datetime:
    """A stdlib datetime in UTC; a naive one is taken to be UTC already (SQLite drops offsets)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    # Rebuilt as a plain datetime: a pendulum subclass would reach Prefect and the database
    # drivers, and psycopg spends most of a bulk insert in pendulum's arithmetic.
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC
    )


def end_of_day(day: date, timezone: str) -> datetime:
    """The last second of `day` in `timezone`, in UTC: a due date means the whole day counts."""
    local = pendulum.datetime(day.year, day.month, day.day, 23, 59, 59, tz=timezone)
    return to_utc(local)


def local(moment: datetime, timezone: str) -> pendulum.DateTime:
    return pendulum.instance(to_utc(moment)).in_timezone(_zone(timezone))


@lru_cache(maxsize=64)
def _zone(name: str) -> pendulum.Timezone:
    # pendulum reads the zone's file on every lookup by name: once per message otherwise.
    return pendulum.timezone(name)


# Every date wording a person reads is made here, so the notice, the reminders, the pages and
# the report write a day the same way.


def written(day: date) -> str:
    """A day as a notice writes it: `2021年9月30日`."""
    return f"{day.year}年{day.month}月{day.day}日"


def month_day(day: date) -> str:
    """A day within the campaign's year, as a table or a chart labels it: `9月30日`."""
    return f"{day.month}月{day.day}日"


def written_span(start: date, end: date) -> str:
    """`2021年9月1日至2021年9月30日`: a campaign's period."""
    return f"{written(start)}至{written(end)}"


def format_local(moment: datetime, timezone: str) -> str:
    """`2021年9月30日（星期四）23:59` in the campaign's timezone."""
    t = local(moment, timezone)
    return f"{written(t)}（{WEEKDAYS_ZH[t.weekday()]}）{t.hour:02d}:{t.minute:02d}"


def format_remaining(due: datetime, at: datetime) -> str:
    """`还剩3天5小时` or `已逾期2天1小时`, to the hour."""
    delta = to_utc(due) - to_utc(at)
    overdue = delta < timedelta(0)
    hours = int(abs(delta).total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    text = f"{days}天{hours}小时" if days else f"{hours}小时"
    return f"已逾期{text}" if overdue else f"还剩{text}"


def days_overdue(due_at: datetime, now: datetime, timezone: str) -> int:
    """Calendar days past the deadline's day, as an office counts them (0 if not past)."""
    if now <= due_at:
        return 0
    # The stdlib's conversion: the dashboard counts this for every unit on a page, and
    # Pendulum's conversion cost more there than the page's queries. The days are the same.
    zone = ZoneInfo(timezone)
    day = to_utc(now).astimezone(zone).date() - to_utc(due_at).astimezone(zone).date()
    return max(day.days, 1)
