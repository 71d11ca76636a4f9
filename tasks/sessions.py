"""Coordinators' sessions, kept on the server.

A session is a row (`coordinatorsession`) with a random id. The browser's cookie holds that id
and its HMAC under a key derived from the installation's link key: every web process of one
installation accepts it, a forged or altered cookie is refused without a database read, and
someone who reads only the database cannot make a cookie from its ids. The row is what ends a
session before its 12 hours: signing out ends that one, a new password every one of the
account's (`tasks.accounts.save_account`), and `DUBAN_SESSION_IDLE_MINUTES` without a request
ends it too. Its time is the product's clock (`DUBAN_NOW`), as every other stored time.

Checking a session is one primary-key read, on every dashboard request. Its `last_seen_at` is
written only when it is a minute old, so a coordinator reading pages costs a write a minute,
not one per page.

The same key signs the "known browser" cookie that sign-in gives (see `tasks.throttle`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from config.clock import now as clock_now
from config.settings import get_settings
from models import queries as q
from models.db import get_engine
from tasks.accounts import Coordinator, b64
from tasks.messages.tokens import secret_key

SESSION_SECONDS = 12 * 3600  # a working day at most; then sign in again
TOUCH_SECONDS = 60  # `last_seen_at` is written at most this often
KNOWN_BROWSER_DAYS = 180
_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Current:
    """A live session: whose it is, its id, and whether its `last_seen_at` is due a write."""

    coordinator: Coordinator
    session_id: str
    stale: bool


def open_session(who: Coordinator, now: datetime | None = None) -> str:
    """A new session for a coordinator who has just signed in; returns its cookie. The
    account's sessions that can no longer be used are deleted on the way."""
    moment = clock_now(now)
    session_id = secrets.token_urlsafe(16)
    with get_engine().begin() as conn:
        q.forget_sessions(conn, who.id, moment - timedelta(seconds=SESSION_SECONDS))
        q.insert_session(conn, session_id, who.id, moment)
    return f"{session_id}.{_sign('session.' + session_id)}"


def current(cookie: str | None, now: datetime | None = None) -> Current | None:
    """The live session a cookie stands for, or None: missing, malformed, forged, signed out,
    ended by a new password, older than 12 hours, or idle too long."""
    session_id = _verified(cookie)
    if session_id is None:
        return None
    with get_engine().connect() as conn:
        row = q.session_by_id(conn, session_id)
    if row is None or row["revoked_at"] is not None:
        return None
    moment = clock_now(now)
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if moment - row["created_at"] >= timedelta(seconds=SESSION_SECONDS):
        return None
    if moment - row["last_seen_at"] >= idle:
        return None
    stale = moment - row["last_seen_at"] >= timedelta(seconds=TOUCH_SECONDS)
    who = Coordinator(int(row["coordinator_id"]), row["username"])
    return Current(who, session_id, stale)


def touch(session_id: str, now: datetime | None = None) -> None:
    """The session was used now (see `Current.stale`)."""
    with get_engine().begin() as conn:
        q.touch_session(conn, session_id, clock_now(now))


def end_session(cookie: str | None, now: datetime | None = None) -> None:
    """Sign out: the cookie's session ends on the server, whatever the browser keeps."""
    session_id = _verified(cookie)
    if session_id is not None:
        with get_engine().begin() as conn:
            q.revoke_sessions(conn, clock_now(now), session_id=session_id)


def csrf_token(cookie: str) -> str:
    """The token every dashboard form carries: bound to the session, so a page on another
    site cannot post a form in the coordinator's name."""
    return _sign("csrf." + cookie)[:32]


def csrf_ok(cookie: str | None, token: str | None) -> bool:
    # Compared as bytes: a form may post any text, and `compare_digest` refuses non-ASCII str.
    if not cookie or not token:
        return False
    return hmac.compare_digest(csrf_token(cookie).encode(), token.encode())


def known_browser_cookie(username: str) -> str:
    """What a browser keeps after signing in to `username`."""
    return f"{username}.{_sign('known.' + username)}"


def is_known_browser(cookie: str | None, username: str) -> bool:
    """True if the cookie is `known_browser_cookie(username)`."""
    if not cookie or "." not in cookie:
        return False
    name, _, signature = cookie.rpartition(".")
    expected = known_browser_cookie(username).encode()
    return name == username and hmac.compare_digest(f"{name}.{signature}".encode(), expected)


def _verified(cookie: str | None) -> str | None:
    """The session id of a well-formed cookie whose signature is right. Nothing in it is
    read as a number: a cookie is text to compare, whatever it holds."""
    if not cookie or len(cookie) > 100:
        return None
    session_id, _, signature = cookie.partition(".")
    if not _ID.fullmatch(session_id):
        return None
    if not hmac.compare_digest(signature.encode(), _sign("session." + session_id).encode()):
        return None
    return session_id


def _sign(payload: str) -> str:
    settings = get_settings()
    key = _session_key(settings.secret_key, str(settings.data_dir))
    return b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


@lru_cache(maxsize=4)
def _session_key(_setting: str | None, _data_dir: str) -> bytes:
    # Keyed by where the link key comes from, so tests that switch data folders get theirs;
    # cached because reading the key file on every request would cost more than the page.
    return hmac.new(secret_key(), b"duban coordinator session", hashlib.sha256).digest()
