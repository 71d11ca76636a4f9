"""What may stand in a `notify` list, and how each entry is checked.

Four kinds of entry:
- an e-mail address (`office@county.gov.cn` or `mailto:office@county.gov.cn`): sent through the
  office's relay (`DUBAN_SMTP_URL`), or written to the outbox when no relay is set;
- an Apprise URL (`mailto://…`, `json://…`, `wecombot://…`, …): sent as it stands; a chat
  bot's webhook as its platform shows it (`https://oapi.dingtalk.com/robot/send?…`) is read
  as the bot's address (see config.campaign.bot_urls);
- an SMS number (`sms:13800000000`): sent through Aliyun with the campaign's `sms:` templates
  (see config.campaign.sms);
- a tag (a plain word): stands for the addresses listed under `channels` in the campaign file.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from config.campaign.bot_urls import from_webhook
from config.campaign.sms import SMS_PREFIX, is_sms, mobile_problem

EMAIL = "email"  # the kind of plain e-mail addresses (sent through the office's relay)
SMS = SMS_PREFIX.rstrip(":")  # the kind of SMS numbers
EMAIL_RE = re.compile(r"^(?:mailto:)?([^@\s:/,;]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$")


def email_address(entry: str) -> str | None:
    """The address if `entry` is a plain e-mail address, else None."""
    match = EMAIL_RE.match(entry.strip())
    return match.group(1) if match else None


@lru_cache(maxsize=4096)
def canonical(entry: str) -> str:
    """The entry as duban sends to it: a bot's own webhook URL becomes the bot's address."""
    entry = entry.strip()
    return from_webhook(entry) or entry


def channel_problem(entry: str) -> str | None:
    """Why `entry` cannot be sent to, or None when it can."""
    if email_address(entry):
        return None
    if is_sms(entry):
        return mobile_problem(entry)
    if "://" not in entry:
        return f"{entry!r} is neither an e-mail address, an Apprise URL nor a channel name"
    return _apprise_problem(entry)


@lru_cache(maxsize=4096)
def _apprise_problem(url: str) -> str | None:
    import apprise  # heavy import, only when a URL has to be checked

    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        scheme = url.split("://", 1)[0]
        return f"{url!r} is not a valid Apprise URL (scheme {scheme!r} unknown or its fields wrong)"
    return None


def resolve_tags(entries: list[str], channels: dict[str, list[str]]) -> list[str]:
    """Tags replaced by the addresses they stand for, in order, without repeats."""
    return list(dict.fromkeys(a for e in entries for a in channels.get(e, [e])))


def relay_url(smtp_url: str, address: str) -> str:
    """The relay's Apprise URL with its recipient replaced by `address`. Notices are plain
    text: unless the relay URL says otherwise, no HTML copy is built (it halves the work)."""
    parts = urlsplit(smtp_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "to"]
    if not any(k.lower() == "format" for k, _ in query):
        query.append(("format", "text"))
    query.append(("to", address))
    return urlunsplit(parts._replace(query=urlencode(query, safe="@,")))


def redact(entry: str) -> str:
    """An entry fit for a dashboard or a log: Apprise's own privacy form hides keys and tokens."""
    if "://" not in entry:
        return entry  # an e-mail address or an SMS number: the coordinator's own data
    import apprise

    plugin = apprise.Apprise.instantiate(entry, suppress_exceptions=True)
    return str(plugin.url(privacy=True)) if plugin else entry.split("://", 1)[0] + "://***"


@lru_cache(maxsize=1)
def _schemes() -> dict[str, str]:
    """Every Apprise scheme → the name of its service (`jsons` → `json`, `mailtos` → `mailto`)."""
    from apprise.manager_plugins import NotificationManager

    manager = NotificationManager()
    names: dict[str, str] = {}
    for scheme in manager.schemas():
        plugin = manager[scheme]
        name = plugin.protocol or plugin.secure_protocol
        names[scheme] = str(name[0] if isinstance(name, (list, tuple)) else name)
    return names


def channel_kind(channel: str) -> str:
    """`email` for a plain address, else the Apprise service (`dingtalk`, `json`, …), the
    same for its plain and secure scheme."""
    if email_address(channel) is not None:
        return EMAIL
    if is_sms(channel):
        return SMS
    scheme = canonical(channel).split("://", 1)[0].lower()
    return _schemes().get(scheme, scheme)


def known_kind(key: str) -> str | None:
    """The kind a `rate_limits` key stands for, or None if it is no channel kind."""
    return key if key in (EMAIL, SMS) else _schemes().get(key)
