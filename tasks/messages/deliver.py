"""Delivering one message to one channel, with the reason when it fails.

Apprise 1.x answers a send with a bare bool and logs the reason; a handler keyed by thread
collects those log lines so that each failure in a pool of senders is recorded with its own.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config.campaign.channels import email_address
from config.campaign.sms import is_sms
from config.settings import get_settings
from tasks.messages import smtp_pool, tls
from tasks.messages.bots import bot_kind, send_bot
from tasks.messages.outbox import FileToSend, write_eml


@dataclass(frozen=True)
class Delivery:
    ok: bool
    error: str | None = None
    outbox_path: Path | None = None
    # The channel itself is wrong (a bad token, keyword, signature, IP allow-list): trying
    # again cannot help, so the ledger does not, and the coordinator is told.
    misconfigured: bool = False
    # The content went out and the answer never came: the row stays `sending`, not resent.
    unconfirmed: bool = False


class _PerThreadLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._local = threading.local()

    def start(self) -> None:
        self._local.lines = []

    def stop(self) -> list[str]:
        lines: list[str] = getattr(self._local, "lines", [])
        self._local.lines = None
        return lines

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            _forward.handle(record)
        lines = getattr(self._local, "lines", None)
        message = record.getMessage()
        # Warnings say what failed; the underlying exception is logged at DEBUG. Other DEBUG
        # lines are skipped: they carry the payload, and with it the department's link.
        if lines is not None and (record.levelno >= logging.WARNING or "Exception" in message):
            lines.append(message)


_log = _PerThreadLog()
_forward = logging.getLogger("duban.delivery")
_setup_lock = threading.Lock()
_ready = False


def _setup() -> None:
    global _ready
    with _setup_lock:
        if _ready:
            return
        tls.install()
        logger = logging.getLogger("apprise")
        logger.addHandler(_log)
        # The reason for a failure ("Connection refused", "HTTP 500") is logged at DEBUG, next
        # to payloads that hold links: keep Apprise's records here, forward its warnings only.
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        _ready = True


def deliver(
    channel: str,
    title: str,
    body: str,
    outbox_name: str,
    outbox_folder: str,
    attach: FileToSend | None = None,
    mobiles: Sequence[str] = (),
    sent_at: datetime | None = None,
) -> Delivery:
    """Send `body` to `channel`: an e-mail address goes to the relay, or to the outbox when no
    relay is configured; a DingTalk, WeCom or Feishu bot to our own client (which @s
    `mobiles` where the platform can); anything else is an Apprise URL. (A capped channel's
    turn is waited for before the message is claimed: see `tasks.messages.rate_limits`.)
    An SMS number takes only a message made from a template (`tasks.messages.sms`): free
    text, such as a report, cannot go to it."""
    if is_sms(channel):
        error = "an SMS number takes only the campaign's SMS templates, not this message"
        return Delivery(ok=False, misconfigured=True, error=error)
    address = email_address(channel)
    if address is not None:
        smtp_url = get_settings().smtp_url
        if not smtp_url:
            path = write_eml(address, title, body, outbox_name, outbox_folder, attach, sent_at)
            return Delivery(ok=True, outbox_path=path)
        return send_to_relay(smtp_url, address, title, body, attach)
    if bot_kind(channel) is not None:
        answer = send_bot(channel, title, body, mobiles)
        return Delivery(ok=answer.ok, error=answer.error, misconfigured=answer.misconfigured)
    return send_apprise(channel, title, body, attach)


def send_to_relay(
    smtp_url: str, address: str, title: str, body: str, attach: FileToSend | None = None
) -> Delivery:
    """Mail through the office's relay, over a kept connection (see `smtp_pool`). A 4xx is the
    relay asking to be tried later (greylisting, a full queue): the backoff does. A 5xx is
    its final word on this message (no such mailbox, sender not allowed, refused content):
    sending the same again cannot help, so it is marked as the channel's fault and the
    coordinator is told, like a bot's refused key."""
    sent = smtp_pool.send(smtp_url, address, title, body, attach)
    final = not sent.ok and not sent.retry and not sent.unconfirmed
    return Delivery(ok=sent.ok, error=sent.error, unconfirmed=sent.unconfirmed, misconfigured=final)


def takes_attachments(channel: str) -> bool:
    """Whether a file can go with a message on this channel (e-mail and JSON webhooks can; a
    chat bot's webhook takes text only)."""
    if email_address(channel) is not None:
        return True
    if is_sms(channel):
        return False
    import apprise

    plugin = apprise.Apprise.instantiate(channel, suppress_exceptions=True)
    return bool(plugin is not None and plugin.attachment_support)


def send_apprise(url: str, title: str, body: str, attach: FileToSend | None = None) -> Delivery:
    import apprise
    from apprise import NotifyFormat
    from apprise.attachment.file import AttachFile
    from apprise.conversion import convert_between

    _setup()
    _log.start()
    try:
        # A fresh plugin per message: a reused one throttles to one send per ~5.5 s per service.
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if plugin is None:
            return Delivery(ok=False, error="channel address is not a valid Apprise URL")
        plugin.request_rate_per_sec = 0
        # A plugin called directly does not convert what it is given, as `Apprise.notify`
        # does: an HTML service (mailto:// sends HTML by default) would take the text as
        # markup, running a comment's tags and losing its line breaks. Escape it first.
        body = convert_between(NotifyFormat.TEXT, plugin.notify_format, body)
        if plugin.title_maxlen <= 0:  # the title is blended into the body
            title = convert_between(NotifyFormat.TEXT, plugin.notify_format, title)
        files = None
        if attach is not None and plugin.attachment_support:
            files = apprise.AppriseAttachment()
            files.add(AttachFile(str(attach.path), name=attach.name))
        ok = bool(
            plugin.notify(body=body, title=title, body_format=NotifyFormat.TEXT, attach=files)
        )
    except Exception as exc:  # a plugin bug must fail this message, not the whole batch
        _log.stop()
        return Delivery(ok=False, error=f"{type(exc).__name__}: {exc}")
    lines = _log.stop()
    if ok:
        return Delivery(ok=True)
    return Delivery(ok=False, error=reason_from_log(lines))


# Webhook keys ride in URL paths and query strings (WeCom `?key=`, DingTalk
# `?access_token=`); exception texts quote them ("Max retries exceeded with url: /send?key=…").
_URL_TAIL = re.compile(r"((?:[a-z][a-z0-9+.-]*://)?[^\s/'\"]*)(/[^\s'\"]*|\?[^\s'\"]*)", re.I)


def reason_from_log(lines: list[str]) -> str:
    """The warning and the underlying exception as Apprise logged them, with every URL path
    and query cut off so that a stored or printed reason never carries a channel's secret."""
    text = " | ".join(line.strip() for line in lines[-3:])[:1000]
    return _URL_TAIL.sub(lambda m: m.group(1) + "/…", text) or "the channel refused it"
