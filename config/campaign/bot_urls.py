"""Chat bots' webhook URLs as the platforms' consoles show them, read as Apprise bot addresses.

A clerk copies a bot's webhook from DingTalk, WeCom, Feishu or Lark as it is shown there
(`https://oapi.dingtalk.com/robot/send?access_token=…`). Apprise 1.x reads only some of these
(WeCom's and Lark's, not DingTalk's or Feishu's), and hands those it reads to its own plugins,
which judge a send by the HTTP status alone. So every such URL is rewritten here, once, into
the bot grammar duban's own client reads (`dingtalk://token`, `wecombot://key`,
`feishu://token`, `lark://token`); a host other than the platform's public one (政务钉钉,
政务微信, a private Feishu) is kept as `?base=`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

# The platforms' public API hosts, where a bot address without `?base=` is posted to.
DEFAULT_BASES = {
    "dingtalk": "https://oapi.dingtalk.com",
    "wecombot": "https://qyapi.weixin.qq.com",
    "feishu": "https://open.feishu.cn",
    "lark": "https://open.larksuite.com",
}
# The webhook paths, which are the same on the public and the private deployments.
_HOOK_PATHS = (
    ("dingtalk", re.compile(r"^/robot/send/?$"), "access_token"),
    ("wecombot", re.compile(r"^/cgi-bin/webhook/send/?$"), "key"),
    ("feishu", re.compile(r"^/open-apis/bot/v2/hook/([\w-]+)/?$"), None),
)
_TOKEN = re.compile(r"^[\w-]+$")


def from_webhook(url: str) -> str | None:
    """The bot address for a platform's own webhook URL, or None if `url` is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    base = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    query = parse_qs(parts.query)
    for kind, path, key in _HOOK_PATHS:
        found = path.match(parts.path)
        if not found:
            continue
        token = found.group(1) if key is None else (query.get(key) or [""])[0]
        if not _TOKEN.match(token):
            return None
        if kind == "feishu" and base == DEFAULT_BASES["lark"]:
            kind = "lark"
        address = f"{kind}://{token}"
        extra = {k: v[0] for k, v in query.items() if k in ("secret",)}
        if base != DEFAULT_BASES[kind]:
            extra["base"] = base
        if extra:
            address += "/?" + "&".join(f"{k}={quote(v, safe=':/')}" for k, v in extra.items())
        return address
    return None
