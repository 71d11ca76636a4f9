"""Throttling wrong passwords, before any password is checked, and bounding the checks.

The design, the usual one against password guessing, in three counters:
- the account together with the client address (5 failures): one machine guessing one
  account's password, or its owner mistyping it;
- the client address, whatever the account (20): one machine trying many names;
- the account, whatever the address (20): many machines guessing one password.
A counter at its limit locks its key: for `DUBAN_SIGNIN_LOCK_SECONDS` (a minute) at first,
twice as long at each further failure, up to 16 times as long. A locked key is refused at
once, with the time left, and no password is checked: a flood costs one read per request.
Failures decay: a key with no failure for `FORGET_LOCKS` first locks (an hour) starts again
from nothing, and a correct password clears its account's counters (not its address's: one
known password must not buy more guesses at other accounts).

The account-wide counter is the one an attacker elsewhere could use to keep the owner out
for as long as the attack lasts. So a browser that has signed in to the account before holds
a signed cookie (`tasks.sessions.known_browser_cookie`) and is spared that counter: it is
counted only with its own address, where the attacker's failures are not. The coordinator
at the usual desk signs in while the account is under attack; a new browser, if the attack
keeps the account locked, waits for the lock to run out (16 minutes at most) between tries.

Counters are rows in the database (`signinfailures`), not the process's memory: `duban web
--workers N` runs N processes, and a flood spreads over all of them. Their time is the
system's clock: a clock held still by `DUBAN_NOW` would never let a lock end.

Whatever passes the counters, at most `CHECKS_AT_ONCE` passwords are checked at once in a
process (16 MiB of scrypt each), on threads of their own: a burst of sign-ins waits in line
(at most `CHECK_WAIT_SECONDS`, then it is told to come back) instead of taking a gigabyte,
and the memory freed after a check stays with those two threads for the next one.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from config.clock import wall_now
from config.settings import get_settings
from models import queries as q
from models.db import get_engine
from tasks.accounts import USERNAME_RE, Coordinator, sign_in

PAIR_FAILURES = 5
ADDRESS_FAILURES = 20
ACCOUNT_FAILURES = 20
LONGEST_LOCK = 16  # times the first
FORGET_LOCKS = 60  # a key quiet this many first locks (an hour) starts afresh
CHECKS_AT_ONCE = 2
CHECK_WAIT_SECONDS = 10.0
PASSWORD_CHECKS = ThreadPoolExecutor(max_workers=CHECKS_AT_ONCE, thread_name_prefix="password")


@dataclass(frozen=True)
class Attempt:
    """A sign-in as the counters see it: the name typed, the client's address, and whether
    the browser signed in to that name before."""

    username: str
    address: str
    known_browser: bool = False

    def counters(self) -> dict[str, int]:
        """The counters this attempt is counted under, with their limits. A name that cannot
        be an account's is counted by address only; one that can is counted whether or not
        it exists, so that being throttled tells nothing about which names do."""
        address = self.address[:100]
        keys = {f"address:{address}": ADDRESS_FAILURES}
        if USERNAME_RE.fullmatch(self.username):
            keys[f"pair:{address} {self.username}"] = PAIR_FAILURES
            if not self.known_browser:
                keys[f"account:{self.username}"] = ACCOUNT_FAILURES
        return keys


@dataclass(frozen=True)
class Outcome:
    """The account signed in to, or None; whether the password was checked at all (not if
    the attempt was throttled); `wait` seconds before another try is let through (0: none)."""

    who: Coordinator | None
    checked: bool
    wait: int


def wait_seconds(attempt: Attempt, now: datetime | None = None) -> int:
    """Seconds until the attempt may be tried, rounded up; 0 if it may be now."""
    moment = now or wall_now()
    with get_engine().connect() as conn:
        until = q.locked_until(conn, list(attempt.counters()), moment)
    return 0 if until is None else max(math.ceil((until - moment).total_seconds()), 1)


def check(attempt: Attempt, password: str) -> Outcome:
    """The password checked, unless the attempt is throttled by then (it may have waited in
    line behind the failures that locked it); the failure or success counted."""
    wait = wait_seconds(attempt)
    if wait:
        return Outcome(None, False, wait)
    who = sign_in(attempt.username, password)
    if who is not None:
        with get_engine().begin() as conn:
            q.clear_failures(conn, [k for k in attempt.counters() if not k.startswith("address:")])
        return Outcome(who, True, 0)
    return Outcome(None, True, _failed(attempt))


def _failed(attempt: Attempt) -> int:
    """Count a wrong password under each key; lock those at their limit. Returns the wait
    now in force (0: none)."""
    now = wall_now()
    first = timedelta(seconds=get_settings().signin_lock_seconds)
    longest = now
    with get_engine().begin() as conn:
        q.forget_failures(conn, now - first * FORGET_LOCKS, now)
        for key, limit in attempt.counters().items():
            failures = q.count_failure(conn, key, now, now - first * FORGET_LOCKS)
            if failures >= limit:
                until = now + first * min(2 ** (failures - limit), LONGEST_LOCK)
                q.lock(conn, key, until)
                longest = max(longest, until)
    return math.ceil((longest - now).total_seconds())
