"""A real SMTP server (aiosmtpd) and a real HTTP receiver, both on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

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
    message, refuses the addresses in `refuse` with 550, and asks those in `defer` to come
    back later (451, greylisting) as many times as `defer` says.

    `lose_answer`: the connection is dropped as that message's content arrives, before the
    answer (the server has the message; its sender cannot know). Otherwise the message is
    answered 250 and the connection is dropped at its next MAIL, before anything is sent."""

    def __init__(self, drop_after: int = 0, lose_answer: bool = False) -> None:
        super().__init__()
        self.drop_after = drop_after
        self.lose_answer = lose_answer
        self.refuse: set[str] = set()
        self.defer: dict[str, int] = {}
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
        with self._lock:
            if self.defer.get(address, 0) > 0:
                self.defer[address] -= 1
                return "451 4.7.1 greylisted, please try again later"
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


# The platforms' own answer bodies (DingTalk and WeCom `errcode`/`errmsg`, Feishu `code`/`msg`),
# by what the receiver is told to do with a token.
BOT_ANSWERS: dict[str, dict[str, dict[str, Any]]] = {
    "dingtalk": {
        "ok": {"errcode": 0, "errmsg": "ok"},
        "keyword": {
            "errcode": 310000,
            "errmsg": "description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，"
            "并在发送的信息中包含此关键词;",
        },
        "sign": {"errcode": 310000, "errmsg": "sign not match"},
        "token": {"errcode": 300001, "errmsg": "token is not exist"},
        "limit": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
    },
    "wecombot": {
        "ok": {"errcode": 0, "errmsg": "ok"},
        "token": {
            "errcode": 93000,
            "errmsg": "invalid webhook url, hint: [1733100000_12_abcdef], from ip: 127.0.0.1, "
            "more info at https://open.work.weixin.qq.com/devtool/query?e=93000",
        },
        "limit": {"errcode": 45009, "errmsg": "api freq out of limit, hint: [1733100000_7]"},
        # A text over 2,048 bytes (UTF-8), as WeCom words it.
        "size": {
            "errcode": 40058,
            "errmsg": "text.content exceed max length 2048. invalid Request Parameter, "
            "hint: [1733100000_9], more info at https://open.work.weixin.qq.com/devtool/query?e=40058",
        },
    },
    "feishu": {
        "ok": {
            "StatusCode": 0,
            "StatusMessage": "success",
            "code": 0,
            "data": {},
            "msg": "success",
        },
        "keyword": {"code": 19024, "data": {}, "msg": "Key Words Not Found"},
        "sign": {
            "code": 19021,
            "data": {},
            "msg": "sign match fail or timestamp is not within one hour from current time",
        },
        "ip": {"code": 19022, "data": {}, "msg": "Ip Not Allowed"},
        "token": {
            "code": 19001,
            "data": {},
            "msg": "param invalid: incoming webhook access token invalid",
        },
        "limit": {"code": 11232, "data": {}, "msg": "frequency limited psm[lark.oapi]appID[1]"},
    },
}


@dataclass(frozen=True)
class BotPost:
    kind: str  # dingtalk, wecombot or feishu
    token: str
    query: dict[str, str]
    payload: dict[str, Any]


class BotReceiver:
    """DingTalk, WeCom and Feishu group bots on one loopback port, at their own paths. The
    token decides the answer, by its first word: `ok…` accepts; `keyword…`, `sign…`, `ip…`,
    `token…` refuse with that platform's code (HTTP 200, as the platforms do); `limit…`
    accepts `limit_after` messages, then answers the rate-limit code while `limiting`;
    `drop…` closes the connection mid-request while `dropping`; `down…` answers HTTP 502.
    WeCom refuses a text over 2,048 bytes with 40058, as it does. Lark's path is Feishu's.
    A token given a secret in `secrets` checks the signature (DingTalk's query, Feishu's body)
    and answers the platform's signature code when it does not match."""

    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[BotPost] = []  # accepted messages only
        self.requests: dict[str, int] = {}  # every request, by token
        self.secrets: dict[str, str] = {}
        self.limit_after = 1
        self.limiting = True
        self.dropping = True
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                kind, token, query = receiver._route(self.path)
                if not kind:
                    self._answer(404, {})
                    return
                with receiver._lock:
                    receiver.requests[token] = receiver.requests.get(token, 0) + 1
                    taken = sum(1 for p in receiver.posts if p.token == token)
                word = next((w for w in BOT_ANSWERS[kind] if token.startswith(w)), "ok")
                if token.startswith("drop") and receiver.dropping:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if token.startswith("down"):
                    self._answer(502, {})
                    return
                if token in receiver.secrets and not receiver._signed(kind, token, query, payload):
                    word = "sign"
                if word == "limit" and (taken < receiver.limit_after or not receiver.limiting):
                    word = "ok"
                if (
                    kind == "wecombot"
                    and word == "ok"
                    and len(receiver.text_of(kind, payload)) > 2048
                ):
                    word = "size"
                if word == "ok":
                    with receiver._lock:
                        receiver.posts.append(BotPost(kind, token, query, payload))
                self._answer(200, BOT_ANSWERS[kind].get(word, BOT_ANSWERS[kind]["token"]))

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def _route(path: str) -> tuple[str, str, dict[str, str]]:
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query))
        if parts.path == "/robot/send":
            return "dingtalk", query.get("access_token", ""), query
        if parts.path == "/cgi-bin/webhook/send":
            return "wecombot", query.get("key", ""), query
        if parts.path.startswith("/open-apis/bot/v2/hook/"):
            return "feishu", parts.path.rsplit("/", 1)[-1], query
        return "", "", query

    def _signed(self, kind: str, token: str, query: dict[str, str], payload: Any) -> bool:
        import base64
        import hashlib
        import hmac

        secret = self.secrets[token]
        source = query if kind == "dingtalk" else payload
        stamp, sign = str(source.get("timestamp", "")), str(source.get("sign", ""))
        text = f"{stamp}\n{secret}".encode()
        if kind == "dingtalk":
            digest = hmac.new(secret.encode(), text, hashlib.sha256).digest()
        else:
            digest = hmac.new(text, b"", hashlib.sha256).digest()
        return bool(stamp) and hmac.compare_digest(base64.b64encode(digest).decode(), sign)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, kind: str, token: str, extra: str = "") -> str:
        """A bot address in Apprise's grammar, pointed at this receiver with `?base=`."""
        return f"{kind}://{extra}{token}/?base={self.base}"

    def to(self, token: str) -> list[BotPost]:
        with self._lock:
            return [p for p in self.posts if p.token == token]

    def text(self, post: BotPost) -> str:
        return self.text_of(post.kind, post.payload).decode()

    @staticmethod
    def text_of(kind: str, payload: Any) -> bytes:
        """The message's text as posted, in UTF-8 (the platforms count its bytes)."""
        if kind == "feishu":
            return str(payload["content"]["text"]).encode()
        return str(payload["text"]["content"]).encode()


class AliyunSmsReceiver:
    """Imitates Dysmsapi's SendSms over plain HTTP, and checks each request as Aliyun does:
    the ACS3-HMAC-SHA256 signature recomputed here from the known secret (a wrong one is
    answered `SignatureDoesNotMatch`, an unknown key `InvalidAccessKeyId.NotFound`), then the
    action, version and fields. `answers` maps a phone number to the code it gets; others OK."""

    KEY_ID = "LTAItestkeyid0001"
    SECRET = "test-secret-never-in-a-campaign-file"

    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: list[dict[str, Any]] = []  # the SendSms fields of every checked request
        self.refused: list[str] = []  # the codes answered to requests that failed a check
        self.answers: dict[str, str] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = receiver._answer(self, body)
                out = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.accepted if r["PhoneNumbers"] == number]

    def _answer(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, Any]]:
        problem = _acs3_problem(request, body, {self.KEY_ID: self.SECRET})
        if problem is not None:
            status, code, message = problem
            with self._lock:
                self.refused.append(code)
            return status, {"Code": code, "Message": message, "RequestId": "req-refused"}
        query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in request.headers.items()}
        fields = ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam")
        if (headers.get("x-acs-action"), headers.get("x-acs-version")) != (
            "SendSms",
            "2017-05-25",
        ) or not all(query.get(f) for f in fields):
            return 400, {"Code": "MissingParameter", "Message": "not a SendSms request"}
        sent = {
            **{f: query[f] for f in fields},
            "TemplateParam": json.loads(query["TemplateParam"]),
        }
        code = self.answers.get(query["PhoneNumbers"], "OK")
        with self._lock:
            self.accepted.append(sent)
        messages = {"OK": "OK", "isv.BUSINESS_LIMIT_CONTROL": "触发分钟级流控Permits:1"}
        return 200, {
            "Code": code,
            "Message": messages.get(code, f"模拟错误 {code}"),
            "BizId": f"biz{len(self.accepted)}" if code == "OK" else None,
            "RequestId": f"req{len(self.accepted)}",
        }


def _acs3_problem(
    request: BaseHTTPRequestHandler, body: bytes, secrets: dict[str, str]
) -> tuple[int, str, str] | None:
    """Aliyun's V3 signature check, written from its published algorithm: the canonical
    request (method, path, sorted RFC 3986-encoded query, signed headers, body hash) hashed
    with SHA-256, and that signed with HMAC-SHA256 under the AccessKey secret."""
    auth = request.headers.get("Authorization", "")
    match = re.match(
        r"^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$",
        auth,
    )
    if not match:
        return 400, "IncompleteSignature", "the Authorization header is not ACS3-HMAC-SHA256"
    key_id, signed, signature = match.groups()
    if key_id not in secrets:
        return 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
    headers = {k.lower(): v.strip() for k, v in request.headers.items()}
    names = signed.split(";")
    required = {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-content-sha256"}
    if names != sorted(names) or not required <= set(names) or not set(names) <= set(headers):
        return 400, "IncompleteSignature", "signed headers missing or out of order"
    if headers["x-acs-content-sha256"] != hashlib.sha256(body).hexdigest():
        return 400, "SignatureDoesNotMatch", "the body's hash is not the one signed"
    parts = urlsplit(request.path)
    pairs = sorted(parse_qsl(parts.query, keep_blank_values=True))
    canonical_query = "&".join(f"{_rfc3986(k)}={_rfc3986(v)}" for k, v in pairs)
    canonical = "\n".join(
        [
            request.command,
            parts.path or "/",
            canonical_query,
            "".join(f"{n}:{headers[n]}\n" for n in names),
            signed,
            headers["x-acs-content-sha256"],
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(secrets[key_id].encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return (
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        )
    return None


def _rfc3986(value: str) -> str:
    return quote(value, safe="-_.~")
