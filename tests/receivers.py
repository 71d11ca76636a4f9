"""A real SMTP server (aiosmtpd) and a real HTTP receiver, both on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Mail:
    rcpt: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        assert part is not None
        return str(part.get_content())


class SmtpReceiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self.on_message: Any = None  # called after a message is stored (a test's hook)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.mails.append(Mail(list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        if self.on_message is not None:
            self.on_message()
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=office@duban.test&to={to}"

    def relay_url(self) -> str:
        """`DUBAN_SMTP_URL` for this server: every e-mail address goes through it."""
        return f"mailto://127.0.0.1:{self.port}?from=office@duban.test"

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self.mails if address in m.rcpt]


class FaultySmtpReceiver(SmtpReceiver):
    """An SMTP relay with faults: it drops a connection once, after the `drop_after`-th
    message, and refuses the addresses in `refuse` with 550.

    `lose_answer`: the connection is dropped as that message's content arrives, before the
    answer (the server has the message; its sender cannot know). Otherwise the message is
    answered 250 and the connection is dropped at its next MAIL, before anything is sent."""

    def __init__(self, drop_after: int = 0, lose_answer: bool = False) -> None:
        super().__init__()
        self.drop_after = drop_after
        self.lose_answer = lose_answer
        self.refuse: set[str] = set()
        self.peers: set[tuple[str, int]] = set()  # one per connection that carried a message
        self._drop_at_mail = False

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self._drop_at_mail:
            self._drop_at_mail = False
            server.transport.abort()  # gone before any answer is written
            return "421 dropped"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        with self._lock:
            self.peers.add(tuple(session.peer))
            drop = len(self.mails) == self.drop_after
        if drop and self.lose_answer:
            server.transport.abort()  # the message is kept; its answer is never written
        elif drop:
            self._drop_at_mail = True
        return answer


class HttpReceiver:
    """Records JSON posts. Paths decide the answer: `/ok…` 200, `/refuse…` 500,
    `/slow…` answers after `slow_seconds` (longer than the channel's read timeout)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each post kept in `posts`
        self.slow_seconds = 3.0
        self.refusing = True
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                stalled = self.path.startswith("/slow") and receiver.slow_seconds > 0
                if stalled:
                    # The sender gave up long before: this post counts as lost, not received.
                    time.sleep(receiver.slow_seconds)
                code = 500 if self.path.startswith("/refuse") and receiver.refusing else 200
                if code == 200 and not stalled:
                    with receiver._lock:
                        receiver.posts.append((self.path, payload))
                        receiver.arrivals.append(time.monotonic())
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        # Short timeouts keep a test of a stalled channel short (Apprise: cto, rto seconds).
        return f"json://127.0.0.1:{self.port}/{path.lstrip('/')}?cto=2&rto=1"

    def to(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for route, p in self.posts if route.split("?")[0] == "/" + path.lstrip("/")]
