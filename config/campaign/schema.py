"""The campaign file's schema: what a lead office's notice says, in a form the engine can run.

Required keys (the public contract): `slug`, `title`, `due`, `departments` (each with `code`,
`name`, `notify`). Everything else mirrors what a real notice carries.

`CampaignSettings` is the campaign without its departments: what the database keeps (the
campaign's `spec` column) and every later message reads. `Campaign` adds the departments.
The rules that judge a file (known timezone, sendable channels, …) run when a file is read;
a stored spec was judged at launch and is read back without them (`STORED`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any

import pendulum
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from config.campaign.channels import canonical, channel_problem, known_kind, resolve_tags
from config.campaign.sms import SmsSettings
from config.ladder import DEFAULT_LADDER, OfficeHours, Rung
from config.plain_text import control_char

SLUG_RE = r"^[a-z0-9][a-z0-9-]{0,79}$"
CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


# The validation context of a spec read back from the database: checked at launch, trusted
# now. Its channels are not parsed again (that would load Apprise to show a page) and the
# defaults written out at launch are not mistaken for keys given together.
STORED = {"stored": True}


def _judged(info: ValidationInfo) -> bool:
    """True when a file is being read: its rules apply; False for a stored spec."""
    return not (info.context or {}).get("stored")


def _plain(multiline: bool) -> AfterValidator:
    """Refuses control characters (config.plain_text): one line for names, titles and
    contacts; line breaks and tabs admitted in a duty or a note."""

    def check(value: str, info: ValidationInfo) -> str:
        char = control_char(value, multiline) if _judged(info) else None
        if char:
            kind = "text" if multiline else "one line of text"
            raise ValueError(f"contains a control character ({char}); write it as {kind}")
        return value

    return AfterValidator(check)


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _plain(False)]
Words = Annotated[str, StringConstraints(strip_whitespace=True), _plain(False)]  # may be left out
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _plain(True)]
Paragraph = Annotated[str, _plain(True)]


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt key must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_channel(entry: str, info: ValidationInfo) -> str:
    if not _judged(info):
        return entry
    entry = canonical(entry)
    if TAG_RE.match(entry):
        return entry  # a tag; resolved against `channels` by the campaign
    problem = channel_problem(entry)
    if problem:
        raise ValueError(problem)
    return entry


Channel = Annotated[str, AfterValidator(_check_channel)]


class Contact(Strict):
    """Someone who is told things: the coordinator, a department head, the leadership group."""

    name: Line
    person: Words | None = None
    phone: Words | None = None
    notify: list[Channel] = Field(min_length=1)


class Department(Strict):
    code: Annotated[str, StringConstraints(pattern=CODE_RE)]
    name: Line
    notify: list[Channel] = Field(min_length=1)
    person: Words | None = None
    phone: Words | None = None
    duties: list[Text] = Field(default_factory=list)
    head: Contact | None = None  # the department's head: told when the ladder escalates


class Period(Strict):
    start: date
    end: date


class Requirements(Strict):
    """What each department must deliver, as the notice's closing paragraph states it."""

    summary: bool = True
    paper_copy: bool = False
    pictures: bool = False
    video: bool = False
    note: Paragraph | None = None


def _date_or_datetime(value: object) -> object:
    """A written time is kept even at midnight: `2021-09-30T00:00` must not become the date
    2021-09-30, which means a whole day."""
    if isinstance(value, str) and len(value.strip()) > 10:
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                "not a date (2021-09-30) or a date and time (2021-09-30T17:00)"
            ) from None
    return value


class ReportSchedule(Strict):
    """When the final report is made by itself, unless every unit is accepted before: on a
    given day (when office hours open) or at a given moment, else `days` working days after
    the deadline's day."""

    at: date | datetime | None = None
    days: int = Field(default=3, ge=1, le=60)

    _at_kept = field_validator("at", mode="before")(_date_or_datetime)

    @model_validator(mode="before")
    @classmethod
    def _one_way(cls, value: object, info: ValidationInfo) -> object:
        given = isinstance(value, dict) and value.get("at") is not None and "days" in value
        if given and _judged(info):
            raise ValueError("give either `at` (a day or a moment) or `days`, not both")
        return value


class CampaignSettings(Strict):
    """Everything the file says but its departments: stored with the campaign (`spec`)."""

    slug: Annotated[str, StringConstraints(pattern=SLUG_RE)]
    title: Line
    due: date | datetime
    timezone: str = "Asia/Shanghai"
    lead_office: Words | None = None
    document_number: Words | None = None
    coordinator: Contact | None = None
    theme: Words | None = None
    period: Period | None = None
    guidance: Paragraph | None = None
    common_duties: list[Text] = Field(default_factory=list)
    requirements: Requirements = Field(default_factory=Requirements)
    channels: dict[str, list[Channel]] = Field(default_factory=dict)
    leaders: Contact | None = None  # the leadership group (领导小组), told on escalation
    office_hours: OfficeHours = Field(default_factory=OfficeHours)
    escalation: list[Rung] = Field(default_factory=lambda: list(DEFAULT_LADDER), min_length=1)
    report: ReportSchedule = Field(default_factory=ReportSchedule)
    # Messages a minute to each channel of a kind (`dingtalk`, `wecombot`, `json`, …; `email`
    # caps the office's relay), kept by every sender together (see tasks.messages.rate_limits).
    rate_limits: dict[str, Annotated[int, Field(ge=1, le=6000)]] = Field(default_factory=dict)
    sms: SmsSettings | None = None  # sign name and templates, for `sms:` numbers

    @field_validator("escalation")
    @classmethod
    def _unique_rungs(cls, value: list[Rung], info: ValidationInfo) -> list[Rung]:
        if not _judged(info):
            return value
        names = [r.name for r in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"rung name {name!r} is used twice")
        return value

    _due_kept = field_validator("due", mode="before")(_date_or_datetime)

    @field_validator("report")
    @classmethod
    def _report_after_due(cls, value: ReportSchedule, info: ValidationInfo) -> ReportSchedule:
        due = info.data.get("due")
        if value.at is None or due is None or not _judged(info):
            return value
        day = value.at.date() if isinstance(value.at, datetime) else value.at
        if day < (due.date() if isinstance(due, datetime) else due):
            raise ValueError(f"the report day ({value.at}) comes before the deadline ({due})")
        return value

    @field_validator("rate_limits")
    @classmethod
    def _channel_kinds(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        if not _judged(info):
            return value
        for kind in value:
            if known_kind(kind) is None:
                raise ValueError(
                    f"{kind!r} is not a channel kind: give `email`, `sms` or an Apprise scheme "
                    "such as `dingtalk`, `wecombot` or `json`"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str, info: ValidationInfo) -> str:
        if _judged(info) and not _is_timezone(value):
            raise ValueError(f"unknown timezone {value!r} (expected e.g. Asia/Shanghai)")
        return value

    @field_validator("channels")
    @classmethod
    def _channel_urls(
        cls, value: dict[str, list[str]], info: ValidationInfo
    ) -> dict[str, list[str]]:
        if not _judged(info):
            return value
        for name, entries in value.items():
            if not TAG_RE.match(name):
                raise ValueError(f"channel name {name!r} must be a word (letters, digits, - or _)")
            for entry in entries:
                if TAG_RE.match(entry):
                    raise ValueError(f"channel {name!r}: {entry!r} must be an address, not a tag")
        return value

    def resolve(self, entries: list[str]) -> list[str]:
        """Tags replaced by the addresses they stand for, in order, without repeats."""
        return resolve_tags(entries, self.channels)

    def contacts(self) -> dict[str, list[str]]:
        """The coordinator's and the leadership group's addresses, tags resolved."""
        return {
            key: self.resolve(contact.notify) if contact else []
            for key, contact in (("coordinator", self.coordinator), ("leaders", self.leaders))
        }

    @classmethod
    def stored(cls, data: dict[str, Any]) -> CampaignSettings:
        """A spec as the database keeps it, read back without judging it again."""
        return cls.model_validate(data, context=STORED)


class Campaign(CampaignSettings):
    """A campaign file: its settings and its departments."""

    departments: list[Department] = Field(min_length=1)

    def settings(self) -> CampaignSettings:
        """The campaign without its departments, to store (the nested parts are shared)."""
        names = CampaignSettings.model_fields
        return CampaignSettings.model_construct(
            self.model_fields_set & names.keys(), **{n: getattr(self, n) for n in names}
        )


@lru_cache(maxsize=64)
def _is_timezone(name: str) -> bool:
    try:
        pendulum.timezone(name)
    except Exception:
        return False
    return True
