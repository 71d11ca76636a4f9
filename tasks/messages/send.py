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
from config.campaign.channels import redact
from config.campaign.sms import is_sms
from config.clock import now as clock_now
from config.settings import get_settings
from models import queries as q
from models.db import get_engine
from models.kinds import MISCONFIGURED, rung_name
from tasks.messages.bots import mobile_of
from tasks.messages.deliver import Delivery, deliver
from tasks.messages.rate_limits import NoTurn, cap_of, wait_turn
from tasks.messages.render import render
from tasks.messages.sms import deliver_sms
from tasks.messages.tokens import derive_token, link_for, secret_key, token_hash

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
    unconfirmed: int = 0  # sent, the channel's answer lost: left `sending`, not resent

    def merge(self, other: SendReport) -> None:
        self.sent += other.sent
        self.failed.extend(other.failed)
        self.outbox.extend(other.outbox)
        self.skipped += other.skipped
        self.unconfirmed += other.unconfirmed


@task(name="send-batch", cache_policy=NO_CACHE)
def send_batch(notification_ids: list[int], now: datetime | None = None) -> SendReport:
    engine = get_engine()
    with engine.connect() as conn:
        items = q.outgoing(conn, notification_ids)
    report = SendReport(skipped=len(notification_ids) - len(items))
    key = secret_key()
    calendar = WorkCalendar()
    pending_sent: list[int] = []
    pending_failed: list[tuple[int, str]] = []
    pending_misconfigured: set[int] = set()
    refused: list[tuple[q.Outgoing, str]] = []  # misconfigured: the coordinator is told
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        if pending_sent or pending_failed:
            with engine.begin() as conn:
                at = clock_now(now)
                q.record_sent(conn, pending_sent, at)
                q.record_failed(conn, pending_failed, at, pending_misconfigured)
            pending_sent.clear()
            pending_failed.clear()
            pending_misconfigured.clear()
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
        if is_sms(item.channel):  # a template approved beforehand, filled: no free text
            return deliver_sms(item, link_for(token), clock_now(now))
        message = render(item, link_for(token), clock_now(now), calendar)
        name = f"{item.department_code}-{item.kind}-{item.notification_id}"
        # A bot message to the unit @s its contact, when the unit's phone is a mobile.
        mobile = mobile_of(item.department_phone) if item.recipient == "department" else None
        mobiles = [mobile] if mobile else []
        return deliver(
            item.channel,
            message.title,
            message.body,
            name,
            item.slug,
            mobiles=mobiles,
            sent_at=clock_now(now),
        )

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
            elif result.unconfirmed:
                # The row stays `sending`: reported as unconfirmed, resent only on request.
                report.unconfirmed += 1
                log.warning("message %s unconfirmed: %s", item.notification_id, result.error)
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
                if result.misconfigured:
                    pending_misconfigured.add(item.notification_id)
                    if rung_name(item.kind) != MISCONFIGURED:
                        refused.append((item, reason))
                report.failed.append(Failure(item.department_code, item.channel, reason))
            if len(pending_sent) + len(pending_failed) >= RECORD_EVERY or (
                time.monotonic() - last_flush >= RECORD_SECONDS
            ):
                flush()
    flush()
    alerts = plan_alerts(refused, now)
    if alerts:
        report.merge(send_batch.fn(alerts, now))  # at most one level: alerts raise none
    return report


def plan_alerts(refused: list[tuple[q.Outgoing, str]], now: datetime | None) -> list[int]:
    """The coordinator's report of each message refused as misconfigured, planned once."""
    ids: list[int] = []
    if not refused:
        return ids
    with get_engine().begin() as conn:
        for item, reason in refused:
            note = f"{item.department_name}（{redact(item.channel)}）：{reason}"
            channels = item.campaign_spec.contacts()["coordinator"]
            ids += q.plan_misconfigured_alerts(
                conn, [(item.notification_id, note)], channels, clock_now(now)
            )
    return ids
