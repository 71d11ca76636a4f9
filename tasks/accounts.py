"""Coordinator accounts: their names and passwords, and checking a password.

Passwords are kept as scrypt hashes. A check costs 16 MiB of memory and tens of milliseconds,
which is what makes guessing slow; `tasks.throttle` makes sure a flood of guesses never runs
many of them at once. Sessions are `tasks.sessions`'."""

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
from models import queries as q
from models.db import get_engine

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # 128 * r * n bytes: 16 MiB per check


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Coordinator:
    id: int
    username: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + b64(salt) + "$" + b64(digest)


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
    """Create a coordinator account, or set a new password for it, which ends every session
    of the account (a password changed because it leaked must lock out whoever used it).
    True if created."""
    if not USERNAME_RE.match(username):
        raise AccountError(
            "a username is 2 to 64 letters, digits or . _ @ - (no spaces, no Chinese characters)"
        )
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    moment = clock_now(now)
    with get_engine().begin() as conn:
        created = q.save_coordinator(conn, username, hash_password(password), moment)
        if not created:
            row = q.coordinator_by_name(conn, username)
            assert row is not None  # just saved, in this transaction
            q.revoke_sessions(conn, moment, coordinator_id=int(row["id"]))
    return created


@lru_cache(maxsize=1)
def _decoy() -> str:
    return hash_password(secrets.token_hex(16))


def sign_in(username: str, password: str) -> Coordinator | None:
    """The account, if the password is its own. Costs one scrypt check whatever the answer:
    call it through `tasks.throttle.check`, which bounds and throttles the checks."""
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


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
