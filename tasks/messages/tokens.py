"""Personal links: 256-bit tokens, of which the database keeps only a SHA-256 hash.

A token is HMAC-SHA256(secret key, salt) with a random 256-bit salt per link. The database holds
the salt and the hash; the key lives outside it (`DUBAN_SECRET_KEY`, or a key file in the data
folder). So a reminder weeks later can carry the same link as the notice, while a copy of the
database alone opens no link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from config.private_files import private_folder
from config.settings import Settings, get_settings

KEY_FILE = "secret.key"


def new_salt() -> str:
    return secrets.token_hex(32)


def derive_token(key: bytes, salt: str) -> str:
    # hmac.digest: OpenSSL's one-shot HMAC, several times faster than an hmac.new object
    # (a launch derives 50,000 of them).
    digest = hmac.digest(key, bytes.fromhex(salt), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_link(key: bytes, assignment_id: int, now: datetime) -> dict[str, Any]:
    """A `linktoken` row for a new personal link (the token itself is not stored)."""
    salt = new_salt()
    return {
        "assignment_id": assignment_id,
        "salt": salt,
        "token_hash": token_hash(derive_token(key, salt)),
        "created_at": now,
    }


def link_for(token: str, settings: Settings | None = None) -> str:
    base = (settings or get_settings()).public_url.rstrip("/")
    return f"{base}/d/{token}"


def secret_key(settings: Settings | None = None) -> bytes:
    """The installation's link key: from the setting, else a key file created on first use.

    The key file sits in the data folder for a one-machine install; where the database is
    shared or backed up separately, set `DUBAN_SECRET_KEY` and keep it out of that folder.
    """
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        private_folder(path.parent)
        tmp = path.with_name(f"{KEY_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            # link() fails if the file exists: of two processes starting at once, the first
            # key written wins, and no one ever reads a half-written file.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 32:
        raise RuntimeError(f"{path}: the link key is damaged (expected 64 hex digits)")
    return key
