"""The tables. Every timestamp is stored in UTC (SQLite drops offsets; see `config.clock`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from config.campaign.schema import CampaignSettings


def _utc_column(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


class SpecColumn(TypeDecorator[CampaignSettings]):
    """A campaign's settings as JSON: written from the model validated at launch, read back as
    the same model (`CampaignSettings.stored`: typed, not judged again). Every query that
    selects the column gets the model."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: CampaignSettings | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        # A `Campaign` is a `CampaignSettings` too: its departments are never stored here.
        return value.model_dump(mode="json", include=set(CampaignSettings.model_fields))

    def process_result_value(self, value: Any, dialect: Dialect) -> CampaignSettings | None:
        return None if value is None else CampaignSettings.stored(value)


class AssignmentStatus(StrEnum):
    ASSIGNED = "assigned"  # notice prepared or sent, nothing heard back yet
    ACKNOWLEDGED = "acknowledged"  # the department opened its link and signed for it (签收)
    SUBMITTED = "submitted"
    RETURNED = "returned"  # sent back by the coordinator for revision
    ACCEPTED = "accepted"


OPEN_STATUSES = (
    AssignmentStatus.ASSIGNED,
    AssignmentStatus.ACKNOWLEDGED,
    AssignmentStatus.RETURNED,
)  # still owed by the department: the ladder chases these


class DeliveryState(StrEnum):
    PENDING = "pending"  # to be sent
    SENDING = "sending"  # claimed by a sender; unconfirmed if the sender died mid-send
    SENT = "sent"
    FAILED = "failed"  # with its reason; retried by the next run
    WITHDRAWN = "withdrawn"  # not sent: its channel or department left the campaign file


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    title: str
    timezone: str = Field(max_length=64)
    due_at: datetime = _utc_column()
    launched_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    status: str = Field(default="open", max_length=16)  # "closed": the ladder stops
    source_path: str
    # The validated campaign file, so later messages (reminders, reports) render from the same
    # facts the notice was sent with.
    spec: CampaignSettings = Field(sa_column=Column(SpecColumn, nullable=False))


class Department(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    code: str = Field(max_length=64)
    name: str
    person: str | None = None
    phone: str | None = None
    notify: list[str] = Field(sa_column=Column(JSON, nullable=False))  # resolved addresses
    duties: list[str] = Field(sa_column=Column(JSON, nullable=False))
    head_notify: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    in_file: bool = True  # False once the department has been taken out of the campaign file
    # Set when the coordinator reassigns the unit from the dashboard: a later launch of the
    # campaign file keeps the new contact instead of the one the file still names.
    reassigned_at: datetime | None = _utc_column(nullable=True)


SETTLED_STATUSES = (AssignmentStatus.SUBMITTED, AssignmentStatus.ACCEPTED)


class Assignment(SQLModel, table=True):
    __table_args__ = (
        # `late` in it: the dashboard's counts by (status, late) are read from this index
        # alone, in its order, with no lookup of 50,000 rows.
        Index("ix_assignment_campaign_status", "campaign_id", "status", "late", "due_at"),
        # The dashboard's default order (units still owed first, earliest deadline first) is
        # this index read in order: its first page costs the same at 50 or 50,000 units.
        Index("ix_assignment_dashboard", "campaign_id", "settled", "due_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    department_id: int = Field(foreign_key="department.id", unique=True)
    status: str = Field(default=AssignmentStatus.ASSIGNED, max_length=16)
    # False while the department owes its summary (status in OPEN_STATUSES); kept with status
    # by `models.queries.set_status` so that the dashboard can sort by it through an index.
    settled: bool = False
    due_at: datetime = _utc_column()
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    acknowledged_at: datetime | None = _utc_column(nullable=True)  # 签收
    first_submitted_at: datetime | None = _utc_column(nullable=True)
    submitted_at: datetime | None = _utc_column(nullable=True)  # the latest version
    late: bool = False  # the first submission came after the deadline of its day


class Submission(SQLModel, table=True):
    """One version of a department's summary. Versions are kept: a revision after a return
    adds a row. `form_key` is the random key of the form that posted it, so a double click or
    a retried POST finds its first result instead of making a second version."""

    __table_args__ = (
        UniqueConstraint("assignment_id", "version"),
        UniqueConstraint("assignment_id", "form_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id")
    version: int
    form_key: str = Field(max_length=64)
    summary: str
    # The unit's own one-line headline for the report (optional: else its first sentence).
    headline: str | None = None
    created_at: datetime = _utc_column()
    late: bool = False
    # The coordinator's verdict on this version: None, "accepted" or "returned".
    review: str | None = Field(default=None, max_length=16)
    review_comment: str | None = None
    reviewed_at: datetime | None = _utc_column(nullable=True)
    reviewed_by: str | None = Field(default=None, max_length=64)


class Attachment(SQLModel, table=True):
    """A file of a submission. It is stored under a random name (`relpath`, under the data
    folder's attachments/); `name` is the sanitised name shown and offered on download."""

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    name: str
    kind: str = Field(max_length=16)  # image, video or document
    size: int
    sha256: str = Field(max_length=64)
    relpath: str


class Coordinator(SQLModel, table=True):
    """A dashboard account. The password is kept as a scrypt hash (see `tasks.accounts`)."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class CoordinatorSession(SQLModel, table=True):
    """A signed-in browser. Its cookie carries the id, signed (see `tasks.sessions`); the row
    is what signing out, a new password and a long idle spell end, on the server."""

    id: str = Field(primary_key=True, max_length=32)  # random: nothing to guess or count
    coordinator_id: int = Field(foreign_key="coordinator.id", index=True)
    created_at: datetime = _utc_column()
    last_seen_at: datetime = _utc_column()  # written at most once a minute
    revoked_at: datetime | None = _utc_column(nullable=True)


class SignInFailures(SQLModel, table=True):
    """Wrong passwords counted under one key: an account, a client address, or the two
    together (see `tasks.throttle`). One row per key, however many attempts."""

    key: str = Field(primary_key=True, max_length=200)
    failures: int
    last_at: datetime = _utc_column(index=True)  # forgotten a while after the last failure
    locked_until: datetime | None = _utc_column(nullable=True)


class LinkToken(SQLModel, table=True):
    """A department's personal link. Only the SHA-256 of the token is stored; the token itself
    is HMAC(secret key, salt), so it can be rebuilt for a later message by a process holding
    the key, and by no one who holds only the database (see `tasks.messages.tokens.secret_key`)."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    salt: str = Field(max_length=64)
    created_at: datetime = _utc_column()
    revoked_at: datetime | None = _utc_column(nullable=True)


class Notification(SQLModel, table=True):
    """The ledger: one row per message to one channel. The unique key is the claim that makes
    a second run, or a second process, unable to send the same message again."""

    __table_args__ = (
        UniqueConstraint("assignment_id", "kind", "channel"),
        Index("ix_notification_campaign_state", "campaign_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    assignment_id: int = Field(foreign_key="assignment.id")
    # What the message is: "notice", a rung for one deadline, an action (see `models.kinds`).
    kind: str = Field(max_length=40)
    channel: str
    recipient: str = Field(default="department", max_length=16)  # see config.ladder.Recipient
    state: str = Field(default=DeliveryState.PENDING, max_length=16)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = _utc_column(nullable=True)  # backoff after a failure
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    sent_at: datetime | None = _utc_column(nullable=True)
    note: str | None = None  # what the message must carry besides the unit's facts (a comment)


class CampaignReport(SQLModel, table=True):
    """A report as made. `digest` is the hash of what it says (not of when it was written), so
    the same report made twice is one row, delivered once; a changed campaign makes a new one."""

    __tablename__ = "campaignreport"
    __table_args__ = (UniqueConstraint("campaign_id", "digest"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    digest: str = Field(max_length=64)
    final: bool  # False: a progress report
    which: str = Field(max_length=16)  # "accepted" or "latest" summaries
    made_at: datetime = _utc_column()
    document: str  # the Word file that is mailed (the HTML and CSV lie beside it)
    document_name: str  # its name in the mail
    subject: str  # the message, kept so that a retry sends what the first attempt did
    body: str


class ReportNotes(SQLModel, table=True):
    """What the coordinator writes for the report before the final one: 存在的问题, 下一步工作,
    and the units commended (表扬, by department code). One row per campaign, replaced whole
    on each save; the report leaves out what is empty."""

    __tablename__ = "reportnotes"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    problems: str = ""
    next_steps: str = ""
    commended: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc_column()
    updated_by: str = Field(max_length=64)


class ReportDelivery(SQLModel, table=True):
    """The report's ledger: one row per report and coordinator channel, claimed before it is
    sent (as `Notification`), so a report goes to each channel once."""

    __tablename__ = "reportdelivery"
    __table_args__ = (UniqueConstraint("report_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="campaignreport.id", index=True)
    channel: str
    state: str = Field(default=DeliveryState.PENDING, max_length=16)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = _utc_column(nullable=True)
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    sent_at: datetime | None = _utc_column(nullable=True)
