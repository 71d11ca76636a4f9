"""Coordinator accounts and their sign-in.

Passwords are kept as scrypt hashes. A signed-in coordinator holds a cookie signed with a key
derived from the installation's link key, so every web process of one installation accepts
it; it names the account, its expiry and a fingerprint of the password hash, so that changing
a password signs out every session made with the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from config.clock import now as clock_now
from config.settings import get_settings
from models import queries as q
from models.db import get_engine
from tasks.messages.tokens import secret_key

SESSION_SECONDS = 12 * 3600  # a working day; then sign in again
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Coordinator:
    id: int
    username: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + _b64(salt) + "$" + _b64(digest)


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode("utf-8"), salt=_unb64(salt), dklen=32, **_SCRYPT)
    return hmac.compare_digest(candidate, _unb64(digest))


def save_account(username: str, password: str, now: datetime | None = None) -> bool:
    """Create a coordinator account, or set a new password for it. True if created."""
    if not USERNAME_RE.match(username):
        raise AccountError(
            "a username is 2 to 64 letters, digits or . _ @ - (no spaces, no Chinese characters)"
        )
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    with get_engine().begin() as conn:
        return q.save_coordinator(conn, username, hash_password(password), clock_now(now))


@lru_cache(maxsize=1)
def _decoy() -> str:
    return hash_password(secrets.token_hex(16))


def sign_in(username: str, password: str) -> Coordinator | None:
    with get_engine().connect() as conn:
        row = q.coordinator_by_name(conn, username)
    if row is None:
        # Checked against a decoy, so that a wrong name takes as long as a wrong password
        # and does not tell which names exist.
        password_matches(password, _decoy())
        return None
    if not password_matches(password, row["password_hash"]):
        return None
    return Coordinator(int(row["id"]), row["username"])


def session_cookie(who: Coordinator, now: datetime | None = None) -> str:
    with get_engine().connect() as conn:
        row = q.coordinator_by_id(conn, who.id)
    if row is None:
        raise AccountError("no such account")
    expires = int(clock_now(now).timestamp()) + SESSION_SECONDS
    payload = f"{who.id}.{expires}"
    return f"{payload}.{_sign(payload, row['password_hash'])}"


def coordinator_of(cookie: str | None, now: datetime | None = None) -> Coordinator | None:
    """The coordinator a session cookie stands for, or None if it is missing, forged,
    expired, or made before the account's password changed."""
    if not cookie or cookie.count(".") != 2:
        return None
    ident, expires, signature = cookie.split(".")
    if not (ident.isdigit() and expires.isdigit()):
        return None
    if int(expires) < clock_now(now).timestamp():
        return None
    with get_engine().connect() as conn:
        row = q.coordinator_by_id(conn, int(ident))
    if row is None:
        return None
    if not hmac.compare_digest(signature, _sign(f"{ident}.{expires}", row["password_hash"])):
        return None
    return Coordinator(int(row["id"]), row["username"])


def csrf_token(cookie: str) -> str:
    """The token every dashboard form carries: bound to the session, so a page on another
    site cannot post a form in the coordinator's name."""
    return _sign("csrf." + cookie, "")[:32]


def csrf_ok(cookie: str | None, token: str | None) -> bool:
    return bool(cookie and token) and hmac.compare_digest(csrf_token(cookie or ""), token or "")


def _sign(payload: str, password_hash: str) -> str:
    settings = get_settings()
    key = _session_key(settings.secret_key, str(settings.data_dir))
    fingerprint = hashlib.sha256(password_hash.encode()).hexdigest()[:16]
    digest = hmac.new(key, f"{payload}.{fingerprint}".encode(), hashlib.sha256).digest()
    return _b64(digest)


@lru_cache(maxsize=4)
def _session_key(_setting: str | None, _data_dir: str) -> bytes:
    # Keyed by where the link key comes from, so tests that switch data folders get theirs;
    # cached because reading the key file on every request would cost more than the page.
    return hmac.new(secret_key(), b"duban coordinator session", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
