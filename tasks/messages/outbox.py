"""The outbox: e-mail written as .eml files when no mail relay is configured."""

from __future__ import annotations

import mimetypes
import os
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from config.clock import now as clock_now
from config.private_files import private_folder, write_private
from config.settings import get_settings

# A name Windows, macOS and a zip file all take: a ledger key's `:` or `/` becomes `-`.
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def file_name(name: str) -> str:
    return _UNSAFE.sub("-", name).strip(".-") or "message"


@dataclass(frozen=True)
class FileToSend:
    """A file attached to a message, under the name the reader sees."""

    path: Path
    name: str

    @property
    def mimetype(self) -> str:
        return mimetypes.guess_type(self.name)[0] or "application/octet-stream"


def write_eml(
    address: str,
    subject: str,
    body: str,
    name: str,
    folder: str,
    attach: FileToSend | None = None,
    sent_at: datetime | None = None,
) -> Path:
    """Write one message atomically (a reader never sees half a file) and return its path.
    Its Date is `sent_at`, the campaign's clock (`--now`), not the machine's."""
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = address
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at or clock_now())
    message["Message-ID"] = make_msgid(domain="duban.local")
    # 8bit, not base64: a coordinator can read the outbox in any text editor.
    message.set_content(body, charset="utf-8", cte="8bit")
    if attach is not None:
        maintype, _, subtype = attach.mimetype.partition("/")
        message.add_attachment(
            attach.path.read_bytes(), maintype=maintype, subtype=subtype, filename=attach.name
        )
    # Owner-only: each message carries its unit's link, a bearer token.
    target_dir = private_folder(settings.outbox_dir / folder)
    target = target_dir / f"{file_name(name)}.eml"
    tmp = write_private(target.with_suffix(".eml.tmp"), bytes(message))
    os.replace(tmp, target)
    return target
