"""Mail to the office's relay over kept SMTP connections, each message its own transaction.

Not through Apprise here: its e-mail plugin connects, greets, secures, logs in and quits for
every message, and a plugin kept for reuse throttles to one send per ~5.5 s; at a campaign's
size the connection, not the message, was the cost. What Apprise does well is kept: the relay
URL is parsed by Apprise (host, port, user, password, `mailto://`/`mailtos://` and `mode=`,
`from=`, `verify=`, `cto=`), so the settings mean what they meant, and each message is built
by Apprise's own `prepare_emails` (same headers, utf-8 text, attachments).

Connections are kept in a small pool: a sender takes one for a message and gives it back, so
there are at most as many as senders at once (`send_workers`). One idle for more than
`IDLE_CHECK_SECONDS` is asked for a NOOP before use, and replaced if it does not answer.

Exactly once: a connection found dropped before the message's content was all written (at
MAIL, RCPT, DATA, or while writing it) is replaced and the message sent again on the new one
(the relay cannot have taken a message whose closing "." it never got). A connection lost
after the content went out and before the relay answered leaves that one message
`unconfirmed`: the relay may have it, so it is not sent again (see `tasks.messages.send`).
"""

from __future__ import annotations

import atexit
import re
import smtplib
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from config.campaign.channels import relay_url
from tasks.messages import tls
from tasks.messages.outbox import FileToSend

IDLE_CHECK_SECONDS = 10.0
# Errors that mean the connection is gone (a socket error, the relay hanging up, or a 421).
_GONE = (smtplib.SMTPServerDisconnected, OSError)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    retry: bool = True  # a failure the relay may accept later (4xx, connection trouble)
    unconfirmed: bool = False  # the content went out, the relay's answer never came


class _Dropped(Exception):
    """The connection went away before the message's content was all written."""


@dataclass(frozen=True)
class Relay:
    """The relay's settings, as Apprise parses its mailto URL; `plugin` builds the messages."""

    host: str
    port: int
    mode: str  # insecure, ssl or starttls
    user: str | None
    password: str | None
    verify: bool
    timeout: float
    sender: str
    plugin: Any

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


@lru_cache(maxsize=8)
def relay(smtp_url: str) -> Relay:
    import apprise

    # The recipient is set per message; any address makes the URL complete for the parse.
    plugin: Any = apprise.Apprise.instantiate(relay_url(smtp_url, "relay@localhost"))
    if plugin is None or not hasattr(plugin, "prepare_emails"):
        raise ValueError("DUBAN_SMTP_URL is not an Apprise mailto:// or mailtos:// URL")
    return Relay(
        host=str(plugin.smtp_host),
        port=int(plugin.port),
        mode=str(plugin.secure_mode),
        user=plugin.user,
        password=plugin.password,
        verify=bool(plugin.verify_certificate),
        timeout=float(plugin.socket_connect_timeout),
        sender=str(plugin.from_addr[1]),
        plugin=plugin,
    )


def _connect(r: Relay) -> smtplib.SMTP:
    # The same TLS contexts as every other TLS connection of duban's (see `tls`).
    context = tls.context(r.verify)
    conn: smtplib.SMTP
    if r.mode == "ssl":
        conn = smtplib.SMTP_SSL(r.host, r.port, timeout=r.timeout, context=context)
    else:
        conn = smtplib.SMTP(r.host, r.port, timeout=r.timeout)
    try:
        if r.mode == "starttls":
            conn.starttls(context=context)
        if r.user and r.password:
            conn.login(r.user, r.password)
        conn.ehlo_or_helo_if_needed()
    except BaseException:
        conn.close()
        raise
    return conn


class _Pool:
    def __init__(self, r: Relay) -> None:
        self.relay = r
        self._idle: list[tuple[smtplib.SMTP, float]] = []
        self._lock = threading.Lock()

    def take(self) -> smtplib.SMTP:
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn, since = self._idle.pop()
            if time.monotonic() - since <= IDLE_CHECK_SECONDS or _answers(conn):
                return conn
            conn.close()
        return _connect(self.relay)

    def give(self, conn: smtplib.SMTP) -> None:
        with self._lock:
            self._idle.append((conn, time.monotonic()))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            _quit(conn)


def _answers(conn: smtplib.SMTP) -> bool:
    try:
        return conn.noop()[0] == 250
    except _GONE:
        return False


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (*_GONE, smtplib.SMTPException):
        conn.close()


_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()


def _pool(smtp_url: str) -> _Pool:
    with _pools_lock:
        pool = _pools.get(smtp_url)
        if pool is None:
            pool = _pools[smtp_url] = _Pool(relay(smtp_url))
        return pool


@atexit.register
def close_all() -> None:
    """Say goodbye to the relay on every idle connection (QUIT)."""
    with _pools_lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.close()


def build(r: Relay, address: str, title: str, body: str, attach: FileToSend | None) -> bytes:
    """The message as Apprise's e-mail plugin would have sent it, ready for DATA."""
    from apprise import AppriseAttachment
    from apprise.attachment.file import AttachFile
    from apprise.conversion import convert_between

    p = r.plugin
    files = None
    if attach is not None:
        files = AppriseAttachment()
        files.add(AttachFile(str(attach.path), name=attach.name))
    # As `deliver.send_apprise`: the text escaped first if the relay URL asks for HTML.
    body = convert_between("text", p.notify_format, body)
    (message,) = p.prepare_emails(
        subject=title,
        body=body,
        notify_format=p.notify_format,
        from_addr=p.from_addr,
        to=[(False, address)],
        cc=p.cc,
        bcc=p.bcc,
        reply_to=p.reply_to,
        smtp_host=p.smtp_host,
        attach=files,
        headers={"X-Application": p.app_id, **p.headers},
        names=p.names,
        pgp=p.pgp,
        pgp_mode=p.pgp_mode,
        inline=p.inline,
        tzinfo=p.tzinfo,
    )
    data = re.sub(r"\r\n|\r|\n", "\r\n", str(message.body)).encode("ascii")
    # Dot-stuffing (RFC 5321 4.5.2) and the closing line, as smtplib's `data` does.
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _refused(stage: str, code: int, answer: bytes) -> Outcome:
    text = answer.decode("utf-8", "replace").replace("\n", " ")
    return Outcome(ok=False, error=f"relay refused at {stage}: {code} {text}", retry=code < 500)


def _transaction(conn: smtplib.SMTP, sender: str, address: str, data: bytes) -> Outcome:
    try:
        code, answer = conn.mail(sender)
        if code == 250:
            code, answer = conn.rcpt(address)
            stage = "RCPT"
            if code in (250, 251):
                conn.putcmd("data")
                code, answer = conn.getreply()
                stage = "DATA"
        else:
            stage = "MAIL"
        if code == 421:  # the relay is closing this connection: try a fresh one
            raise _Dropped(f"{code} {answer.decode('utf-8', 'replace')}")
        if code != 354:
            conn.rset()  # end this transaction; the connection serves the next message
            return _refused(stage, code, answer)
        conn.send(data)
    except _GONE as exc:
        raise _Dropped(f"{type(exc).__name__}: {exc}") from exc
    try:
        code, answer = conn.getreply()
    except _GONE as exc:
        return Outcome(
            ok=False,
            unconfirmed=True,
            error=f"unconfirmed: the relay hung up before answering ({type(exc).__name__})",
        )
    if code == 250:
        return Outcome(ok=True)
    return _refused("end of DATA", code, answer)


def send(smtp_url: str, address: str, title: str, body: str, attach: FileToSend | None) -> Outcome:
    """Send one message to `address` through the relay, on a kept connection."""
    pool = _pool(smtp_url)
    r = pool.relay
    data = build(r, address, title, body, attach)
    reason = ""
    for _ in range(2):  # a connection found dropped is replaced once, per message
        try:
            conn = pool.take()
        except (*_GONE, smtplib.SMTPException) as exc:
            return Outcome(ok=False, error=f"could not reach the relay {r.where}: {exc}")
        try:
            outcome = _transaction(conn, r.sender, address, data)
        except _Dropped as exc:
            conn.close()
            reason = str(exc)
            continue
        if outcome.unconfirmed:
            conn.close()
        else:
            pool.give(conn)
        return outcome
    return Outcome(ok=False, error=f"the relay {r.where} kept dropping the connection: {reason}")
