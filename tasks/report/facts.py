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
from tasks.report.headline import headline
from tasks.status import UnknownCampaign

Which = Literal["accepted", "latest"]
ESCALATING = ("overdue", "escalation")  # wordings that count as 督办, not reminders
TO_UNITS = ("department", "head")  # recipients that are the unit itself, not copies


@dataclass(frozen=True)
class ReportUnit:
    code: str
    name: str
    status: str  # the dashboard's status key (see `models.queries.display_status`)
    due_at: datetime
    submitted_at: datetime | None  # first submission
    # Days past the deadline's day: of the first submission, or, for a unit that never
    # delivered, up to the report's time.
    days_late: int
    revised: bool  # returned at least once and submitted again
    version: int | None  # the version reported, if any
    summary: str | None
    headline: str  # what the unit did, in a line (see `tasks.report.headline`); "" if none
    attachments: list[dict[str, Any]]
    messages: list[tuple[str, datetime]]  # (label, sent at) of every reminder and escalation

    @property
    def delivered(self) -> bool:
        return self.submitted_at is not None


@dataclass(frozen=True)
class Figures:
    """Every figure the report, its mail and its artifact quote, counted here once."""

    units: int
    on_time: int
    late: int
    missing: int
    returned_and_revised: int
    reminders_sent: int  # 提醒、催办 to units
    escalations_sent: int  # 督办 to units (their contact or their head)
    copies_to_office: int  # 逾期未报 copied to the lead office itself
    reports_to_leaders: int  # 情况报告 to the leadership group


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
    # First submissions per local day, from the first one to the last (or the deadline):
    # (day, on time, late).
    by_day: list[tuple[date, int, int]] = field(default_factory=list)
    # The coordinator's notes (`models.tables.ReportNotes`): units commended, in the notice's
    # order, and the text of 存在的问题 and 下一步工作; empty when not written.
    commended: list[str] = field(default_factory=list)
    problems: str = ""
    next_steps: str = ""

    @property
    def kind(self) -> str:
        """What the report is called: 总结报告, or 进展情况 while the campaign runs."""
        return "总结报告" if self.final else "进展情况"

    @property
    def office(self) -> str:
        """The office that issues the report: the lead office, else the coordinator's."""
        spec = self.spec
        return spec.lead_office or (spec.coordinator.name if spec.coordinator else None) or ""

    @property
    def missing(self) -> list[ReportUnit]:
        return [u for u in self.units if not u.delivered]


@task(name="collect-report", cache_policy=NO_CACHE)
def collect(
    slug: str, which: Which = "accepted", final: bool = False, now: datetime | None = None
) -> Report:
    at = clock_now(now)
    with get_engine().connect() as conn:
        campaign = q.campaign_by_slug(conn, slug)
        if campaign is None:
            raise UnknownCampaign(slug)
        rows = q.dashboard_rows(conn, campaign["id"], at, sort="file", limit=None)
        versions = q.campaign_submissions(conn, campaign["id"])
        sent = q.sent_messages(conn, campaign["id"])
        notes = q.report_notes(conn, campaign["id"]) or {}
    tz, spec = campaign["timezone"], campaign["spec"]
    by_unit: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for v in versions:
        by_unit[v["assignment_id"]].append(v)
    chased: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    counted: Counter[str] = Counter()
    for m in sent:
        if not is_rung(m["kind"]):
            continue
        chased[m["assignment_id"]].append(
            (message_label(m["kind"], m["recipient"], spec), m["sent_at"])
        )
        counted[_counted_as(wording_of(spec, m["kind"]), m["recipient"])] += 1
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
                days_late=days_overdue(r["due_at"], first or at, tz),
                revised=any(v["review"] == "returned" for v in own[:-1]),
                version=chosen["version"] if chosen else None,
                summary=chosen["summary"] if chosen else None,
                headline=(
                    headline(chosen["summary"], r["name"], chosen["headline"]) if chosen else ""
                ),
                attachments=chosen["attachments"] if chosen else [],
                messages=chased[r["assignment_id"]],
            )
        )
    submitted = [u for u in units if u.delivered]
    figures = Figures(
        units=len(units),
        on_time=sum(1 for u in submitted if u.days_late == 0),
        late=sum(1 for u in submitted if u.days_late > 0),
        missing=len(units) - len(submitted),
        returned_and_revised=sum(1 for u in units if u.revised),
        reminders_sent=counted["reminder"],
        escalations_sent=counted["escalation"],
        copies_to_office=counted["coordinator"],
        reports_to_leaders=counted["leaders"],
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
        by_day=_by_day(submitted, campaign, tz),
        commended=[u.name for u in units if u.code in set(notes.get("commended") or [])],
        problems=(notes.get("problems") or "").strip(),
        next_steps=(notes.get("next_steps") or "").strip(),
    )


def _counted_as(wording: str, recipient: str) -> str:
    """Which figure a rung's message adds to: a copy to the office and a report to the leaders
    are not 督办 of a unit, however the ladder words them."""
    if recipient not in TO_UNITS:
        return recipient
    return "escalation" if wording in ESCALATING else "reminder"


def _chosen(versions: list[dict[str, Any]], which: Which) -> dict[str, Any] | None:
    """The version the report prints: the accepted one, or on request the latest."""
    if which == "latest":
        return versions[-1] if versions else None
    return next((v for v in reversed(versions) if v["review"] == "accepted"), None)


def _by_day(
    submitted: list[ReportUnit], campaign: dict[str, Any], tz: str
) -> list[tuple[date, int, int]]:
    if not submitted:
        return []
    on_time: Counter[date] = Counter()
    late: Counter[date] = Counter()
    for u in submitted:
        assert u.submitted_at is not None
        day = date.fromordinal(local(u.submitted_at, tz).toordinal())
        (late if u.days_late else on_time)[day] += 1
    first = min(on_time | late)
    last = max(*on_time, *late, date.fromordinal(local(campaign["due_at"], tz).toordinal()))
    days = (last - first).days + 1
    return [
        (d, on_time.get(d, 0), late.get(d, 0))
        for d in (date.fromordinal(first.toordinal() + i) for i in range(days))
    ]
