"""The report sent to the coordinator's channels, once per report.

A report is recorded by the digest of what it says, not of when it was written: running the
report again over an unchanged campaign finds the row it made before, whose deliveries went
out, and sends nothing. Each delivery is claimed before it is sent, as a department's message
is (`tasks.messages.send`), so two runs at once send it once. E-mail carries the Word document;
a channel that takes no files (a chat bot) gets the figures and where the files are.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import DBAPIError

from config.campaign.channels import redact
from config.campaign.schema import CampaignSettings
from config.private_files import open_private, private_folder
from config.settings import get_settings
from models import queries as q
from models.db import get_engine
from models.tables import DeliveryState
from tasks.messages.deliver import Delivery, deliver, takes_attachments
from tasks.messages.outbox import FileToSend
from tasks.messages.rate_limits import NoTurn, cap_of, wait_turn
from tasks.messages.render import Message, text_template
from tasks.report import wording
from tasks.report.facts import Report

# Where the dashboard offers a campaign's latest report (`web.dashboard.report`); the mail
# links to it, never to a path on the server.
REPORT_PATH = "/c/{slug}/report.docx"
# Characters Windows and mail clients refuse in a file name.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class ReportSent:
    report_id: int
    channels: int = 0
    sent: int = 0
    already: int = 0  # delivered by an earlier run of the same report
    unconfirmed: int = 0  # a sender stopped mid-send; not resent blindly
    failed: list[tuple[str, str]] = field(default_factory=list)  # (channel, reason)
    outbox: list[Path] = field(default_factory=list)


# What a report prints of the campaign file; the rest (channels, the ladder, rate limits)
# changes no word of it, so changing it makes no new report.
PRINTED = ("title", "lead_office", "document_number", "theme", "period")


def digest_of(report: Report) -> str:
    """What the report says: every fact it prints, not the moment it was written."""
    facts = dataclasses.asdict(report)
    facts.pop("generated_at")
    facts["spec"] = report.spec.model_dump(mode="json", include=set(PRINTED))
    facts["spec"]["office"] = _office(report.spec)
    text = json.dumps(facts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _office(spec: CampaignSettings) -> str:
    """Who the report is addressed to: the coordinator's office, else the lead office."""
    return (spec.coordinator.name if spec.coordinator else None) or spec.lead_office or ""


def document_name(report: Report) -> str:
    """The attachment's name as the coordinator sees it: 大田县…活动总结报告.docx."""
    return _UNSAFE_NAME.sub("", f"{report.title}{report.kind}")[:120] + ".docx"


def report_message(report: Report) -> Message:
    spec = report.spec
    public = get_settings().public_url.rstrip("/")
    body = text_template("report_mail.txt.j2").render(
        office=_office(spec),
        title=wording.title(report),
        overview=wording.overview(report),
        missing=_listed([u.name for u in report.missing]),
        final=report.final,
        dashboard=f"{public}/c/{report.slug}",
        download=public + REPORT_PATH.format(slug=report.slug),
    )
    return Message(f"【{report.kind}】{report.title}", body)


def _listed(names: list[str], shown: int = 20) -> str:
    """A chat bot drops long messages while answering 200: name a few, count the rest."""
    head = "、".join(names[:shown])
    return head + (f"等{len(names)}个单位" if len(names) > shown else "")


def _kept_copy(report: Report, document: Path, digest: str) -> Path:
    """The document as this report made it, under its digest: the visible file is rewritten
    by every run (a later progress report too), and a retry must attach this one."""
    folder = get_settings().data_dir / "reports" / report.slug / "delivered"
    folder = private_folder(folder)
    kept = folder / f"{digest[:16]}-{'final' if report.final else 'progress'}.docx"
    if not kept.exists():
        tmp = kept.with_suffix(f".{os.getpid()}.tmp")
        with document.open("rb") as read, open_private(tmp) as write:
            shutil.copyfileobj(read, write)
        os.replace(tmp, kept)
    return kept


def record_report(report: Report, files: list[Path], now: datetime) -> int:
    """The report's row and one planned delivery per coordinator channel."""
    document = files[0]
    message = report_message(report)
    channels = report.spec.contacts()["coordinator"]
    digest = digest_of(report)
    kept = _kept_copy(report, document, digest)
    with get_engine().begin() as conn:
        campaign = q.campaign_by_slug(conn, report.slug)
        assert campaign is not None  # the report was collected from it
        report_id = q.record_report(
            conn,
            {
                "campaign_id": campaign["id"],
                "digest": digest,
                "final": report.final,
                "which": report.which,
                "made_at": now,
                "document": str(kept.resolve()),
                "document_name": document_name(report),
                "subject": message.title,
                "body": message.body,
            },
        )
        q.plan_report_deliveries(conn, report_id, channels, now)
        q.withdraw_older_reports(conn, campaign["id"], report_id, now)
    return report_id


def deliver_report(report_id: int, now: datetime, retry: bool = False) -> ReportSent:
    """Send the report's unsent deliveries, each claimed first; failures wait for a rerun or
    the monitor's retry (`retry`: only the deliveries due by their backoff)."""
    engine = get_engine()
    with engine.connect() as conn:
        made = q.report_of(conn, report_id)
        rows = q.report_deliveries(conn, report_id)
        due = q.report_deliveries_due(conn, report_id, now) if retry else None
    result = ReportSent(report_id, channels=len(rows))
    for row in rows:
        channel = redact(row["channel"])
        if row["state"] == DeliveryState.SENT:
            result.already += 1
        elif row["state"] == DeliveryState.SENDING:
            result.unconfirmed += 1
        elif row["state"] == DeliveryState.WITHDRAWN:
            continue
        elif row["attempts"] >= q.MAX_ATTEMPTS:
            result.failed.append(
                (channel, f"gave up after {row['attempts']} attempts: {row['last_error']}")
            )
        elif due is None or row["id"] in due:
            _deliver_one(made, row, now, result)
    return result


def _deliver_one(
    made: dict[str, Any], row: dict[str, Any], now: datetime, result: ReportSent
) -> None:
    engine = get_engine()
    channel = redact(row["channel"])
    try:
        # The channel's turn first: a delivery never sits `sending` while it queues.
        wait_turn(row["channel"], cap_of(row["channel"], made["spec"].rate_limits))
        with engine.begin() as conn:
            if not q.claim_report_delivery(conn, row["id"], now):
                return  # another run has it
    except (DBAPIError, NoTurn) as exc:  # not claimed: the monitor's retry takes it up
        result.failed.append((channel, f"not sent yet, retried later: {exc}"))
        return
    outcome = _send(made, row["channel"], f"report-{made['id']}-{row['id']}")
    if outcome.unconfirmed:  # left `sending`: the relay may have it, so it is not resent
        result.unconfirmed += 1
        return
    with engine.begin() as conn:
        error = None if outcome.ok else outcome.error
        q.record_report_delivery(conn, row["id"], error, now, outcome.misconfigured)
    if outcome.ok:
        result.sent += 1
        if outcome.outbox_path is not None:
            result.outbox.append(outcome.outbox_path)
    else:
        result.failed.append((channel, outcome.error or "unknown error"))


def _send(made: dict[str, Any], channel: str, name: str) -> Delivery:
    document = Path(str(made["document"]))
    if not document.is_file():
        return Delivery(
            ok=False, error=f"the report file {document} is gone; make the report again"
        )
    body, attach = str(made["body"]), None
    size = document.stat().st_size
    if size > get_settings().mail_attach_max_mb * 1024 * 1024:
        body += f"\n报告文件较大（{size / 1024 / 1024:.1f} MB），未随信附送，请从上述工作台下载。"
    elif takes_attachments(channel):
        attach = FileToSend(document, str(made["document_name"]))
        body += f"\n附件：{attach.name}"
    try:
        return deliver(channel, str(made["subject"]), body, name, str(made["slug"]), attach)
    except Exception as exc:  # a broken channel fails its delivery, not the report
        return Delivery(ok=False, error=f"{type(exc).__name__}: {exc}")


@task(name="send-report", cache_policy=NO_CACHE)
def send_report(report: Report, files: list[Path], now: datetime) -> ReportSent:
    return deliver_report(record_report(report, files, now), now)


@task(name="retry-report-deliveries", cache_policy=NO_CACHE)
def retry_reports(now: datetime) -> list[ReportSent]:
    """The monitor's retry of report deliveries that failed and are past their backoff."""
    with get_engine().connect() as conn:
        ids = q.reports_to_retry(conn, now)
    return [deliver_report(i, now, retry=True) for i in ids]
