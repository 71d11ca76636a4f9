"""Sending planned messages from the ledger: claim, render, deliver in parallel, record.

Each message is claimed in the database before it is sent, so two launches at once, or a
launch racing a retry, never send the same row twice. A crash after a send and before its
record leaves the row `sending` ("unconfirmed"): it is reported, never resent blindly.
"""

from __future__ import annotations

import logging
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import DBAPIError

from config.calendars import WorkCalendar
from config.clock import local
from config.clock import now as clock_now
from config.ladder import rung_name
from config.settings import get_settings
from models import queries as q
from models.db import get_engine
from models.tables import EXTENDED, NOTICE, REASSIGNED, RESENT, RETURNED
from tasks.delivery import Delivery, deliver
from tasks.rate_limits import NoTurn, cap_of, wait_turn
from tasks.rendering import Message, render_action, render_notice, render_reminder, wording_of
from tasks.tokens import derive_token, link_for, secret_key, token_hash

log = logging.getLogger("duban.notification")

# Results are written in small groups: few commits, and little lost to a crash.
RECORD_EVERY = 100
RECORD_SECONDS = 0.5


@dataclass(frozen=True)
class Failure:
    department_code: str
    channel: str
    reason: str


@dataclass(frozen=True)
class OutboxCopy:
    department_code: str
    department_name: str
    link: str
    path: str


@dataclass
class SendReport:
    sent: int = 0
    failed: list[Failure] = field(default_factory=list)
    outbox: list[OutboxCopy] = field(default_factory=list)
    skipped: int = 0  # claimed by another sender, or already sent

    def merge(self, other: SendReport) -> None:
        self.sent += other.sent
        self.failed.extend(other.failed)
        self.outbox.extend(other.outbox)
        self.skipped += other.skipped


def send_batch(notification_ids: list[int], now: datetime | None = None) -> SendReport:
    engine = get_engine()
    with engine.connect() as conn:
        items = q.outgoing(conn, notification_ids)
    report = SendReport(skipped=len(notification_ids) - len(items))
    key = secret_key()
    calendar = WorkCalendar()
    pending_sent: list[int] = []
    pending_failed: list[tuple[int, str]] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        if pending_sent or pending_failed:
            with engine.begin() as conn:
                at = clock_now(now)
                q.record_sent(conn, pending_sent, at)
                q.record_failed(conn, pending_failed, at)
            pending_sent.clear()
            pending_failed.clear()
        last_flush = time.monotonic()

    def send_one(item: q.Outgoing) -> Delivery | None:
        # Claimed one at a time, right before its send: a sender that dies leaves at most the
        # messages it had in hand unconfirmed, never the rest of its batch.
        try:
            with engine.connect() as conn:
                if not q.still_unsent(conn, item.notification_id):
                    return None
            # The channel's turn before the claim: a message never sits `sending` in a queue.
            wait_turn(item.channel, cap_of(item.channel, item.campaign_spec.rate_limits))
            with engine.begin() as conn:
                if not q.claim(conn, [item.notification_id], clock_now(now)):
                    return None  # another sender has it, it went out, or the unit delivered
        except DBAPIError as exc:
            # Not claimed, so not ours to mark failed: the next pass tries it again.
            log.warning("could not claim message %s: %s", item.notification_id, exc.orig)
            return None
        except NoTurn as exc:
            log.warning("message %s waits for the next run: %s", item.notification_id, exc)
            return None
        if item.salt is None:
            return Delivery(ok=False, error="the department has no live link (revoked)")
        token = derive_token(key, item.salt)
        if token_hash(token) != item.token_hash:
            return Delivery(
                ok=False,
                error="the link key (DUBAN_SECRET_KEY or secret.key) is not the one this link "
                "was made with; restore it, or the department's link would not open",
            )
        message = render(item, link_for(token), clock_now(now), calendar)
        name = f"{item.department_code}-{item.kind}-{item.notification_id}"
        return deliver(item.channel, message.title, message.body, name, item.slug)

    # Senders hand results over a queue: the recording thread waits on one queue, not on
    # hundreds of futures (re-waiting on every pending future made each batch quadratic).
    results: queue.Queue[tuple[q.Outgoing, Delivery | None]] = queue.Queue()

    def send_and_report(item: q.Outgoing) -> None:
        result: Delivery | None
        try:
            result = send_one(item)
        except Exception as exc:  # rendering or I/O bug: fail this row, keep going
            result = Delivery(ok=False, error=f"{type(exc).__name__}: {exc}")
        results.put((item, result))

    with ThreadPoolExecutor(max_workers=get_settings().send_workers) as pool:
        for item in items:
            pool.submit(send_and_report, item)
        for _ in range(len(items)):
            while True:
                try:
                    item, result = results.get(timeout=RECORD_SECONDS)
                    break
                except queue.Empty:
                    flush()
            if result is None:
                report.skipped += 1
            elif result.ok:
                pending_sent.append(item.notification_id)
                report.sent += 1
                if result.outbox_path is not None:
                    report.outbox.append(
                        OutboxCopy(
                            item.department_code,
                            item.department_name,
                            link_for(derive_token(key, item.salt or "")),
                            str(result.outbox_path),
                        )
                    )
            else:
                reason = result.error or "unknown error"
                pending_failed.append((item.notification_id, reason))
                report.failed.append(Failure(item.department_code, item.channel, reason))
            if len(pending_sent) + len(pending_failed) >= RECORD_EVERY or (
                time.monotonic() - last_flush >= RECORD_SECONDS
            ):
                flush()
    flush()
    return report


def render(item: q.Outgoing, link: str, now: datetime, calendar: WorkCalendar) -> Message:
    """The words for one ledger row: the launch notice, or a rung of the ladder."""
    spec = item.campaign_spec
    name = rung_name(item.kind)
    if name in (NOTICE, RESENT, REASSIGNED):
        return render_notice(spec, item.department_name, item.duties, item.due_at, link, now)
    if name in (RETURNED, EXTENDED):
        return render_action(spec, name, item.department_name, item.due_at, link, now, item.note)
    tz = spec.timezone
    deadline_day = local(item.due_at, tz).date()
    today = local(now, tz).date()
    return render_reminder(
        spec,
        wording_of(spec, item.kind),
        item.recipient,
        item.department_name,
        item.department_contact,
        item.due_at,
        link,
        now,
        working_days_left=max(calendar.count_between(today, deadline_day), 0),
        days_overdue=max((today - deadline_day).days, 0),
        acknowledged_at=item.acknowledged_at,
    )


def release_unconfirmed(
    now: datetime, campaign_id: int | None = None, kind: str | None = None
) -> int:
    """On request, after a sender was killed mid-send: make its unconfirmed messages
    sendable again (the coordinator has checked that no other sender is running). One
    campaign's (a launch: its notices) or every open campaign's (the monitor)."""
    with get_engine().begin() as conn:
        ids = (
            [campaign_id] if campaign_id is not None else [c["id"] for c in q.open_campaigns(conn)]
        )
        released = sum(q.release_unconfirmed(conn, c, now, kind) for c in ids)
        if kind is None:  # the monitor: the reports it sends too
            released += sum(q.release_unconfirmed_reports(conn, c, now) for c in ids)
        return released


def sendable_batches(campaign_id: int, kind: str, size: int) -> list[list[int]]:
    with get_engine().connect() as conn:
        ids = q.sendable_ids(conn, campaign_id, kind)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


release_unconfirmed_task = task(name="release-unconfirmed", cache_policy=NO_CACHE)(
    release_unconfirmed
)
send_batch_task = task(name="send-batch", cache_policy=NO_CACHE)(send_batch)
sendable_batches_task = task(name="plan-send-batches", cache_policy=NO_CACHE)(sendable_batches)
