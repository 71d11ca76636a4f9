"""Monitor: one pass over every open campaign: decide the reminders due, send them once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, get_run_logger

from config.clock import now as clock_now
from config.settings import get_settings
from flows.report import ReportSummary, report_flow
from tasks.messages.plan import release_unconfirmed
from tasks.messages.send import SendReport, send_batch
from tasks.monitor import (
    CampaignPlan,
    plan_reminders,
    sendable_now,
)
from tasks.overdue import OverdueTable, publish_overdue
from tasks.progress import Counter
from tasks.report.delivery import ReportSent, retry_reports
from tasks.report.schedule import reports_due


@dataclass
class MonitorSummary:
    at: datetime
    campaigns: list[CampaignPlan]
    delivery: SendReport = field(default_factory=SendReport)
    released: int = 0  # unconfirmed messages made sendable again on request
    overdue: list[OverdueTable] = field(default_factory=list)
    reports: list[ReportSummary] = field(default_factory=list)  # final reports made this pass
    report_retries: list[ReportSent] = field(default_factory=list)


@flow(name="monitor")
def monitor_flow(now: datetime | None = None, resend_unconfirmed: bool = False) -> MonitorSummary:
    """Safe to run late, twice at once, or again after a crash: every message is claimed in
    the ledger before it is sent."""
    at = clock_now(now)
    released = release_unconfirmed(at) if resend_unconfirmed else 0
    plans = plan_reminders(at)
    delivery = SendReport()
    batches = sendable_now(plans, at, get_settings().batch_size)
    sending = Counter("发送提醒、催办、督办", sum(len(ids) for ids in batches))
    for ids in batches:
        delivery.merge(send_batch(ids, now))
        sending.add(len(ids))
    overdue = publish_overdue(at)
    retries = retry_reports(at)
    # The final report makes itself once every unit is accepted or its time has come. One
    # campaign's failure (a file that cannot be written) must not stop the others' reports,
    # nor the next pass's reminders: it is logged, and the next pass tries again.
    reports = []
    for slug in reports_due(at):
        state = report_flow(slug, final=True, now=now, return_state=True)
        if state.is_completed():
            reports.append(state.result())
        else:
            get_run_logger().error("the final report of %s failed: %s", slug, state.message)
    return MonitorSummary(at, plans, delivery, released, overdue, reports, retries)
