"""Report: the campaign's summaries and figures collected into a Word document, an HTML page
and a CSV, and published to Prefect as an artifact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prefect import flow

from config.clock import now as clock_now
from tasks.report import Which, collect_task
from tasks.report_files import publish_report_task, write_files_task


@dataclass(frozen=True)
class ReportSummary:
    slug: str
    final: bool
    files: list[Path]


@flow(name="report")
def report_flow(
    slug: str,
    out: str | None = None,
    which: Which = "accepted",
    final: bool = False,
    now: datetime | None = None,
) -> ReportSummary:
    """A report of where the campaign stands; `final` only once the campaign is done, else
    it is marked as a progress report."""
    report = collect_task(slug, which, final, clock_now(now))
    files = write_files_task(report, out)
    publish_report_task(report, files)
    return ReportSummary(report.slug, report.final, files)
