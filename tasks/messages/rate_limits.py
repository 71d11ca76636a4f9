"""Send-rate caps per channel, kept by every sender together.

A DingTalk or WeCom bot takes about 20 messages a minute and answers HTTP 200 to the ones it
drops, so a burst of reminders would be lost without an error. Where the senders share a
Prefect server (`PREFECT_API_URL`: workers, the production setup), a cap is a Prefect global
concurrency limit with one slot that frees itself at the capped rate: every process takes a
slot from the same limit before each message, so several workers together keep to it. Without
a server (one machine: `duban serve`, the web app, a command) the cap is kept within the
process, which is then the only sender; no Prefect server is started for it.

A sender waits for its turn before it claims a message: a message is never held `sending`
while it queues, and a unit that delivers meanwhile is not chased.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

from config.campaign.channels import channel_kind, email_address, known_kind
from config.settings import get_settings

log = logging.getLogger("duban.rate_limits")

# Messages a minute to one channel, unless the campaign file says otherwise (`rate_limits`).
DEFAULT_PER_MINUTE: dict[str, int] = {"dingtalk": 20, "wecombot": 20}
WAIT_SECONDS = 900  # a turn not given in this long fails the message (retried later)


class NoTurn(RuntimeError):
    """The channel's turn did not come in time; the message is left for the next run."""


def cap_of(channel: str, rate_limits: dict[str, int]) -> int | None:
    """Messages a minute allowed to `channel` by the campaign's `rate_limits`, or None."""
    caps = dict(DEFAULT_PER_MINUTE)
    for key, value in rate_limits.items():
        caps[known_kind(key) or key] = value
    cap = caps.get(channel_kind(channel))
    return int(cap) if cap else None


def limit_name(target: str) -> str:
    # Hashed: a webhook URL carries its key, and limit names are shown in Prefect's UI.
    return "duban-send-" + hashlib.sha256(target.encode("utf-8")).hexdigest()[:24]


def wait_turn(channel: str, per_minute: int | None) -> None:
    """Block until `channel` may take one more message (the relay, for an e-mail address;
    nothing for mail written to the outbox). Raises `NoTurn` after `WAIT_SECONDS`."""
    if not per_minute:
        return
    target = channel
    if email_address(channel) is not None:
        relay = get_settings().smtp_url
        if not relay:
            return  # the outbox takes any rate
        target = relay
    if prefect_server():
        _shared_turn(limit_name(target), per_minute)
    else:
        _local_turn(target, per_minute)


def prefect_server() -> bool:
    """Whether the senders share a Prefect server (`PREFECT_API_URL`), where a cap can be
    kept for all of them; without one, this process keeps it (and starts no server)."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


_made: set[tuple[str, int]] = set()
_lock = threading.Lock()


def _shared_turn(name: str, per_minute: int) -> None:
    from prefect.concurrency.sync import rate_limit

    for attempt in (1, 2):
        _ensure(name, per_minute)
        try:
            rate_limit(name, occupy=1, timeout_seconds=WAIT_SECONDS, strict=True)
            return
        except TimeoutError:
            raise NoTurn(f"no turn under the channel's cap in {WAIT_SECONDS} s") from None
        except Exception as exc:  # the limit was removed on the server: make it again, once
            with _lock:
                _made.discard((name, per_minute))
            if attempt == 2:
                raise NoTurn(f"the channel's rate limit is unavailable: {exc}") from exc


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


_next_turn: dict[str, float] = {}


def _local_turn(target: str, per_minute: int) -> None:
    """The same spacing within this process: each message one interval after the last."""
    interval = 60 / per_minute
    with _lock:
        now = time.monotonic()
        turn = max(now, _next_turn.get(target, now))
        if turn - now > WAIT_SECONDS:
            raise NoTurn(f"no turn under the channel's cap in {WAIT_SECONDS} s")
        _next_turn[target] = turn + interval
    time.sleep(turn - now)
