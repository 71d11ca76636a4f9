"""Send-rate caps per channel, kept by every sender together.

A DingTalk or WeCom bot takes about 20 messages a minute and answers HTTP 200 to the ones it
drops, so a burst of reminders would be lost without an error. A cap is a Prefect global
concurrency limit with one slot that frees itself at the capped rate: every process that
sends (launch and monitor runs on any worker, the web app's actions) takes a slot from the
same limit on the Prefect server before each message, so several workers together keep to it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from config.channels import email_address

log = logging.getLogger("duban.rate_limits")

# Messages a minute to one channel, unless the campaign file says otherwise (`rate_limits`).
DEFAULT_PER_MINUTE: dict[str, int] = {"dingtalk": 20, "wecombot": 20}
EMAIL = "email"  # the key of plain e-mail addresses: a cap on the office's relay

_made: set[tuple[str, int]] = set()
_lock = threading.Lock()


def kind_of(channel: str) -> str:
    """`email` for a plain address, else the Apprise scheme (`dingtalk`, `json`, …)."""
    if email_address(channel) is not None:
        return EMAIL
    return channel.split("://", 1)[0].lower()


def cap_of(channel: str, spec: dict[str, Any]) -> int | None:
    """Messages a minute allowed to `channel` by the campaign `spec`, or None (no cap)."""
    caps = {**DEFAULT_PER_MINUTE, **(spec.get("rate_limits") or {})}
    cap = caps.get(kind_of(channel))
    return int(cap) if cap else None


def limit_name(target: str) -> str:
    # Hashed: a webhook URL carries its key, and limit names are shown in Prefect's UI.
    return "duban-send-" + hashlib.sha256(target.encode("utf-8")).hexdigest()[:24]


def wait_turn(target: str, per_minute: int) -> None:
    """Block until `target` (a channel, or the relay for e-mail) may take one more message."""
    from prefect.concurrency.sync import rate_limit

    name = limit_name(target)
    _ensure(name, per_minute)
    rate_limit(name, occupy=1, strict=True)


def _ensure(name: str, per_minute: int) -> None:
    """The limit on the Prefect server, made once per process: one slot, freed at the cap's
    rate, so messages leave evenly spaced and no minute ever holds more than the cap."""
    with _lock:
        if (name, per_minute) in _made:
            return
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            try:
                client.upsert_global_concurrency_limit_by_name(
                    name, limit=1, slot_decay_per_second=per_minute / 60
                )
            except Exception as exc:  # made meanwhile by another process: use theirs
                log.debug("limit %s: %s", name, exc)
                client.read_global_concurrency_limit_by_name(name)
        _made.add((name, per_minute))
