"""China's working calendar: holidays and make-up working days (调休).

`chinesecalendar` knows 2004–2026; for other years a coordinator supplies a YAML file in this
folder (see README.md). For a year neither knows, weekdays are used and a warning is logged
every time the year is asked about: a guess, but never a silent one.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

from config.files import MiB, TooLarge, read_capped
from config.yaml_files import UnsafeYaml, check_shape

CALENDAR_DIR = Path(__file__).resolve().parent
log = logging.getLogger("duban.calendar")


class CalendarGapWarning(UserWarning):
    """A year that neither `chinesecalendar` nor a calendar file covers."""


class CalendarFileError(ValueError):
    pass


@dataclass
class _FileYear:
    holidays: set[date] = field(default_factory=set)
    workdays: set[date] = field(default_factory=set)


def _dates(entries: list[object], path: Path, key: str) -> set[date]:
    out: set[date] = set()
    for entry in entries or []:
        text = str(entry).strip()
        try:
            if ".." in text:
                first, last = (date.fromisoformat(p.strip()) for p in text.split("..", 1))
                out.update(first + timedelta(days=i) for i in range((last - first).days + 1))
            else:
                out.add(date.fromisoformat(text))
        except ValueError:
            raise CalendarFileError(f"{path}: {key}: {text!r} is not a date or a range") from None
    return out


# A year's holidays and make-up days are a few dozen lines.
MAX_BYTES = 1 * MiB


def load_calendar_file(path: Path) -> tuple[int, _FileYear]:
    try:
        text = read_capped(path, MAX_BYTES).decode("utf-8")
        check_shape(text)  # no aliases, no deep nesting: see config.yaml_files
        # Every scalar as text: the checks below name a bad date (2027-02-30) themselves,
        # where YAML's own date resolver would crash on it.
        data = yaml.load(text, Loader=yaml.BaseLoader) or {}
    except TooLarge as exc:
        raise CalendarFileError(f"{path}: {exc.refusal('a calendar file')}") from None
    except UnsafeYaml as exc:
        raise CalendarFileError(f"{path}:{exc.line}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CalendarFileError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except yaml.YAMLError as exc:
        raise CalendarFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("year", "")).isdigit():
        raise CalendarFileError(f"{path}: expected `year: 2027`, `holidays:` and `workdays:`")
    year = int(data["year"])
    unknown = set(data) - {"year", "holidays", "workdays"}
    if unknown:
        raise CalendarFileError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    entry = _FileYear(
        _dates(data.get("holidays") or [], path, "holidays"),
        _dates(data.get("workdays") or [], path, "workdays"),
    )
    for day in entry.holidays | entry.workdays:
        if day.year != year:
            raise CalendarFileError(f"{path}: {day} is not in {year}")
    return year, entry


class WorkCalendar:
    """Working days: calendar files first (a coordinator's correction wins), then the package."""

    def __init__(self, folder: Path | None = None) -> None:
        if folder is None:
            from config.settings import get_settings

            folder = get_settings().calendar_dir or CALENDAR_DIR
        self.years: dict[int, _FileYear] = {}
        self._warned: set[int] = set()
        for path in sorted(folder.glob("*.yaml")):
            year, entry = load_calendar_file(path)
            self.years[year] = entry

    def is_working_day(self, day: date) -> bool:
        supplied = self.years.get(day.year)
        if supplied is not None:
            if day in supplied.holidays:
                return False
            return day in supplied.workdays or day.weekday() < 5
        import chinese_calendar

        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                _warn_gap(day.year)
            return day.weekday() < 5

    def on_or_after(self, day: date) -> date:
        """`day` if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def count_between(self, start: date, end: date) -> int:
        """Working days after `start`, up to and including `end` (negative if end < start)."""
        sign, (low, high) = (1, (start, end)) if end >= start else (-1, (end, start))
        days = (low + timedelta(days=i) for i in range(1, (high - low).days + 1))
        return sign * sum(1 for day in days if self.is_working_day(day))

    def shift(self, day: date, working_days: int) -> date:
        """The working day `working_days` after (or before, if negative) `day`; 0 gives `day`
        moved onto a working day."""
        step = 1 if working_days > 0 else -1
        remaining = abs(working_days)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return self.on_or_after(day)


def _warn_gap(year: int) -> None:
    message = (
        f"no working calendar for {year}: counting Monday to Friday, which misses holidays "
        f"and make-up working days; add config/calendars/{year}.yaml (see its README)"
    )
    log.warning(message)
    warnings.warn(message, CalendarGapWarning, stacklevel=3)
