"""What a campaign's report says, gathered from the database: the overview figures, one row
and one section per unit, the progress by day, and the units that never delivered with the
reminders they received. The documents (Word, HTML, CSV) are written from this."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from prefect import task
from prefect.cache_policies import NO_CACHE

from config.campaign.schema import CampaignSettings
from config.clock import days_overdue, local
from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from models.kinds import is_rung
from tasks.messages.labels import message_label, wording_of
from tasks.status import UnknownCampaign

Which = Literal["accepted", "latest"]
ESCALATING = ("overdue", "escalation")  # wordings that count as escalations, not reminders


@dataclass(frozen=True)
class ReportUnit:
    code: str
    name: str
    status: str  # the dashboard's status key (see `models.queries.display_status`)
    due_at: datetime
    submitted_at: datetime | None  # first submission
    days_late: int
    revised: bool  # returned at least once and submitted again
    version: int | None  # the version reported, if any
    summary: str | None
    attachments: list[dict[str, Any]]
    messages: list[tuple[str, datetime]]  # (label, sent at) of every reminder and escalation


@dataclass(frozen=True)
class Figures:
    units: int
    on_time: int
    late: int
    missing: int
    returned_and_revised: int
    reminders_sent: int
    escalations_sent: int


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    timezone: str
    spec: CampaignSettings
    due_at: datetime
    generated_at: datetime
    which: Which
    final: bool  # False: a progress report, marked as such
    figures: Figures
    units: list[ReportUnit]
    # First submissions per local day, from the first one to the last (or the deadline).
    by_day: list[tuple[date, int]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """What the report is called: 总结报告, or 进度报告 while the campaign runs."""
        return "总结报告" if self.final else "进度报告"

    @property
    def missing(self) -> list[ReportUnit]:
        return [u for u in self.units if u.submitted_at is None]


@task(name="collect-report", cache_policy=NO_CACHE)
def collect(
    slug: str, which: Which = "accepted", final: bool = False, now: datetime | None = None
) -> Report:
    at = clock_now(now)
    with get_engine().connect() as conn:
        campaign = q.campaign_by_slug(conn, slug)
        if campaign is None:
            raise UnknownCampaign(slug)
        rows = q.dashboard_rows(conn, campaign["id"], at, sort="code", limit=None)
        versions = q.campaign_submissions(conn, campaign["id"])
        sent = q.sent_messages(conn, campaign["id"])
    tz, spec = campaign["timezone"], campaign["spec"]
    by_unit: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in versions:
        by_unit[v["assignment_id"]].append(v)
    chased: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    reminders = escalations = 0
    for m in sent:
        if not is_rung(m["kind"]):
            continue
        chased[m["assignment_id"]].append(
            (message_label(m["kind"], m["recipient"], spec), m["sent_at"])
        )
        if wording_of(spec, m["kind"]) in ESCALATING:
            escalations += 1
        else:
            reminders += 1
    units = []
    for r in rows:
        own = by_unit[r["assignment_id"]]
        chosen = _chosen(own, which)
        first = own[0]["created_at"] if own else None
        units.append(
            ReportUnit(
                code=r["code"],
                name=r["name"],
                status=q.display_status(r["status"], r["late"]),
                due_at=r["due_at"],
                submitted_at=first,
                days_late=days_overdue(r["due_at"], first, tz) if first else 0,
                revised=any(v["review"] == "returned" for v in own[:-1]),
                version=chosen["version"] if chosen else None,
                summary=chosen["summary"] if chosen else None,
                attachments=chosen["attachments"] if chosen else [],
                messages=chased[r["assignment_id"]],
            )
        )
    submitted = [u for u in units if u.submitted_at is not None]
    figures = Figures(
        units=len(units),
        on_time=sum(1 for u in submitted if u.days_late == 0),
        late=sum(1 for u in submitted if u.days_late > 0),
        missing=len(units) - len(submitted),
        returned_and_revised=sum(1 for u in units if u.revised),
        reminders_sent=reminders,
        escalations_sent=escalations,
    )
    return Report(
        slug=campaign["slug"],
        title=campaign["title"],
        timezone=tz,
        spec=spec,
        due_at=campaign["due_at"],
        generated_at=at,
        which=which,
        final=final,
        figures=figures,
        units=units,
        by_day=_by_day([u.submitted_at for u in submitted if u.submitted_at], campaign, tz),
    )


def _chosen(versions: list[dict[str, Any]], which: Which) -> dict[str, Any] | None:
    """The version the report prints: the accepted one, or on request the latest."""
    if which == "latest":
        return versions[-1] if versions else None
    return next((v for v in reversed(versions) if v["review"] == "accepted"), None)


def _by_day(moments: list[datetime], campaign: dict[str, Any], tz: str) -> list[tuple[date, int]]:
    if not moments:
        return []
    counts: Counter[date] = Counter(date.fromordinal(local(m, tz).toordinal()) for m in moments)
    first = min(counts)
    last = max(max(counts), date.fromordinal(local(campaign["due_at"], tz).toordinal()))
    days = (last - first).days + 1
    return [
        (d, counts.get(d, 0))
        for d in (date.fromordinal(first.toordinal() + i) for i in range(days))
    ]
