"""Report: the campaign's summaries and figures collected into a Word document, an HTML page
and a CSV, published to Prefect as an artifact and sent to the coordinator's channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prefect import flow

from config.clock import now as clock_now
from tasks.report.delivery import ReportSent, send_report
from tasks.report.facts import Which, collect
from tasks.report.files import publish_report, write_files


@dataclass(frozen=True)
class ReportSummary:
    slug: str
    final: bool
    files: list[Path]
    sent: ReportSent | None  # None: not sent, on request


@flow(name="report")
def report_flow(
    slug: str,
    out: str | None = None,
    which: Which = "accepted",
    final: bool = False,
    now: datetime | None = None,
    send: bool = True,
) -> ReportSummary:
    """A report of where the campaign stands; `final` only once the campaign is done, else
    it is marked as a progress report. The same report run again is not sent again."""
    at = clock_now(now)
    report = collect(slug, which, final, at)
    files = write_files(report, out)
    publish_report(report, files)
    sent = send_report(report, files, at) if send else None
    return ReportSummary(report.slug, report.final, files, sent)
