"""DingTalk, WeCom and Feishu group bots, posted to with our own client and believed only when
the platform's answer says the message was taken.

Why not Apprise's plugins: they judge a send by the HTTP status, and these platforms answer
200 when they refuse a message, with the reason in the body (`{"errcode":310000,…}`). A
plugin answers a bare bool, so wrapping one cannot tell "sent" from "refused", nor a rate
limit (retry later) from a wrong keyword or secret (retrying cannot help), and its hosts are
fixed, while government deployments (政务钉钉, 政务微信, private Feishu) run their own. So the
channel addresses keep Apprise's grammar (`dingtalk://[secret@]token[/mobile…]`,
`wecombot://key`, `feishu://token`), parsed by Apprise's own `parse_url`, and one more
parameter: `?base=https://host` for the API's host. The post is ours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from config.campaign.bot_urls import DEFAULT_BASES
from config.campaign.channels import canonical
from config.settings import get_settings
from tasks.messages.chat_fit import fit

TIMEOUT = httpx.Timeout(10.0, connect=5.0)

# The platforms' answer codes, by what can be done about them (their documentation:
# DingTalk 自定义机器人 errcode, WeCom 群机器人 全局错误码, Feishu 自定义机器人 code).
# Any other code (the rate limits, DingTalk 130101/660026, WeCom 45009/45033, Feishu
# 11232/9499, and codes not known here) is a failure the backoff tries again.
MISCONFIGURED_CODES = {
    # keyword / signature / IP allow-list mismatch; token missing, bad or the bot disabled
    "dingtalk": {310000, 300001, 300005, 400013, 400101, 400102},
    # invalid webhook key; bad message type. Not 40058 ("invalid parameter"): WeCom says it
    # of a text over its size, which is the message's fault, not the channel's (see `fit`).
    "wecombot": {93000, 93004, 40008},
    # sign match fail, IP not allowed, keyword not found, parameter invalid, bot not found
    "feishu": {19021, 19022, 19024, 19001, 19002},
}
NAMES = {"dingtalk": "DingTalk", "wecombot": "WeCom", "feishu": "Feishu", "lark": "Lark"}
# Lark is Feishu's international edition: the same API and answers on another host.
PROTOCOL = {"dingtalk": "dingtalk", "wecombot": "wecombot", "feishu": "feishu", "lark": "feishu"}
# The longest text each platform takes, in UTF-8 bytes: WeCom's text message 2048 (its
# documented limit; over it WeCom answers 40058); DingTalk and Feishu take a 20 KB request.
MAX_BYTES = {"dingtalk": 18000, "wecombot": 2048, "feishu": 18000}
# A mainland mobile number, the only contact these bots can @ without a user id.
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


@dataclass(frozen=True)
class Answer:
    """What the platform said: taken, or why not and whether to try again later."""

    ok: bool
    error: str | None = None
    misconfigured: bool = False


@dataclass(frozen=True)
class Bot:
    kind: str  # dingtalk, wecombot, feishu or lark
    token: str
    secret: str | None
    base: str
    mentions: tuple[str, ...]  # mobiles the address itself names (DingTalk's path)
    verify: bool = True  # Apprise's `?verify=no`: a private host's self-signed certificate

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.token, self.secret) if s)


def bot_kind(channel: str) -> str | None:
    channel = canonical(channel)
    scheme = channel.split("://", 1)[0].lower() if "://" in channel else ""
    return scheme if scheme in NAMES else None


def mobile_of(phone: str | None) -> str | None:
    """The mobile in a department's `phone`, if it is one (`138 0000 0000`, `+86-138…`)."""
    if not phone:
        return None
    found = _MOBILE.match(re.sub(r"[\s()-]", "", phone))
    return found.group(1) if found else None


def parse(channel: str) -> Bot:
    """A bot address in Apprise's grammar, read by Apprise's own parser for that service."""
    from apprise.plugins.dingtalk import NotifyDingTalk
    from apprise.plugins.feishu import NotifyFeishu
    from apprise.plugins.lark import NotifyLark
    from apprise.plugins.wecombot import NotifyWeComBot

    channel = canonical(channel)
    kind = bot_kind(channel)
    parsers: dict[str, Callable[[str], Any]] = {
        "dingtalk": NotifyDingTalk.parse_url,
        "wecombot": NotifyWeComBot.parse_url,
        "feishu": NotifyFeishu.parse_url,
        "lark": NotifyLark.parse_url,
    }
    if kind is None:
        raise ValueError("not a bot address")
    found = parsers[kind](channel)
    if not found:
        raise ValueError(f"{NAMES[kind]} address unreadable")
    qsd: dict[str, str] = found.get("qsd") or {}
    token = found.get("key") if kind == "wecombot" else found.get("token")
    if not token:
        raise ValueError(f"{NAMES[kind]} address names no token")
    settings = get_settings()
    setting = {
        "dingtalk": settings.dingtalk_api_base,
        "wecombot": settings.wecom_api_base,
        "feishu": settings.feishu_api_base,
        "lark": None,
    }[kind]
    base = qsd.get("base") or setting or DEFAULT_BASES[kind]
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"{NAMES[kind]} base must start with http:// or https://")
    targets = [m for t in found.get("targets") or [] if (m := mobile_of(t))]
    return Bot(
        kind=kind,
        token=str(token),
        secret=found.get("secret") or qsd.get("secret") or None,
        base=base.rstrip("/"),
        mentions=tuple(targets),
        verify=str(qsd.get("verify", "yes")).lower() not in ("no", "false", "0", "off"),
    )


def _sign(secret: str, timestamp: str, *, key_is_payload: bool) -> str:
    """DingTalk signs `timestamp\\nsecret` with the secret as key; Feishu uses that string as
    the key of an empty message."""
    text = f"{timestamp}\n{secret}".encode()
    if key_is_payload:
        digest = hmac.new(text, b"", hashlib.sha256).digest()
    else:
        digest = hmac.new(secret.encode(), text, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def request_of(bot: Bot, title: str, body: str, mobiles: Sequence[str]) -> tuple[str, Any]:
    """The URL to post to and the JSON to post: a text message, title and body, with @s."""
    at = list(dict.fromkeys([*bot.mentions, *mobiles]))
    protocol = PROTOCOL[bot.kind]
    # DingTalk's @s are written into the text too: the fitted text leaves room for them.
    room = MAX_BYTES[protocol] - sum(len(f" @{m}".encode()) + 1 for m in at)
    content = fit(f"{title}\n\n{body}" if title else body, room)
    if protocol == "dingtalk":
        url = f"{bot.base}/robot/send?access_token={quote(bot.token, safe='')}"
        if bot.secret:
            stamp = str(round(time.time() * 1000))
            sign = _sign(bot.secret, stamp, key_is_payload=False)
            url += f"&timestamp={stamp}&sign={quote(sign, safe='')}"
        # DingTalk @s a mobile only when it is also written in the text.
        text = content + ("\n" + " ".join(f"@{m}" for m in at) if at else "")
        return url, {
            "msgtype": "text",
            "text": {"content": text},
            "at": {"atMobiles": at, "isAtAll": False},
        }
    if protocol == "wecombot":
        url = f"{bot.base}/cgi-bin/webhook/send?key={quote(bot.token, safe='')}"
        text_part: dict[str, Any] = {"content": content}
        if at:
            text_part["mentioned_mobile_list"] = at
        return url, {"msgtype": "text", "text": text_part}
    # Feishu @s by user id only, which a campaign file does not hold: no mentions.
    payload: dict[str, Any] = {"msg_type": "text", "content": {"text": content}}
    if bot.secret:
        stamp = str(int(time.time()))
        payload.update(timestamp=stamp, sign=_sign(bot.secret, stamp, key_is_payload=True))
    return f"{bot.base}/open-apis/bot/v2/hook/{quote(bot.token, safe='')}", payload


def judge(bot: Bot, status: int, answer: Any) -> Answer:
    """Sent only when the body says so; otherwise the platform's code and message."""
    name = NAMES[bot.kind]
    code: Any = None
    message = ""
    if isinstance(answer, dict):
        if PROTOCOL[bot.kind] == "feishu":
            code = answer.get("code", answer.get("StatusCode"))
            message = str(answer.get("msg", answer.get("StatusMessage", "")))
        else:
            code = answer.get("errcode")
            message = str(answer.get("errmsg", ""))
    if status == 200 and code == 0:
        return Answer(ok=True)
    if isinstance(code, int) and not isinstance(code, bool):
        what = f"{name} {code}: {message}".rstrip(": ")
        if code in MISCONFIGURED_CODES[PROTOCOL[bot.kind]]:
            return Answer(False, cut(what, bot), misconfigured=True)
        return Answer(False, cut(what, bot))  # a rate limit, or a code not known: retry
    what = f"{name} HTTP {status}" + (": no answer code in the body" if status == 200 else "")
    # A wrong host path or a refused key; a 5xx or 429 is worth another try.
    return Answer(False, what, misconfigured=status in (401, 403, 404))


def cut(text: str, bot: Bot) -> str:
    """A reason with the bot's token and secret taken out, should the platform echo them."""
    for secret in bot.secrets():
        text = text.replace(secret, "…")
    return text[:1000]


_clients: dict[bool, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(verify: bool) -> httpx.Client:
    """One client per verification setting, shared by the sender threads: a fresh one per
    message would load the CA bundle each time (tens of ms of CPU) and open a new connection."""
    with _clients_lock:
        if verify not in _clients:
            _clients[verify] = httpx.Client(timeout=TIMEOUT, verify=verify)
        return _clients[verify]


def send_bot(channel: str, title: str, body: str, mobiles: Sequence[str] = ()) -> Answer:
    """Post one message and judge the answer. A timeout or a dropped connection is retried
    later (the message may have arrived: the ledger keeps it failed, not sent)."""
    try:
        bot = parse(channel)
    except ValueError as exc:
        return Answer(False, str(exc), misconfigured=True)
    url, payload = request_of(bot, title, body, mobiles)
    name = NAMES[bot.kind]
    try:
        response = _client(bot.verify).post(url, json=payload)
    except httpx.TimeoutException:
        return Answer(False, f"{name}: no answer in time")
    except httpx.RemoteProtocolError:
        return Answer(False, f"{name}: the connection closed before an answer")
    except httpx.ConnectError:
        return Answer(False, f"{name}: cannot connect to {bot.base}")
    except httpx.HTTPError as exc:
        return Answer(False, cut(f"{name}: {type(exc).__name__}", bot))
    try:
        answer = response.json()
    except ValueError:
        answer = None
    return judge(bot, response.status_code, answer)
