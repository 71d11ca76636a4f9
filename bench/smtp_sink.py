"""A local SMTP server that accepts every message, in its own process (so that its work does
not share the benchmark's interpreter). With a log file, it writes one line per message
received (recipients and subject), so that a benchmark can check that nothing came twice."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

_SERVER = """
import sys, time
from email import message_from_bytes, policy
from aiosmtpd.controller import Controller
log = open(sys.argv[1], "a", encoding="utf-8", buffering=1) if len(sys.argv) > 1 else None
class Sink:
    async def handle_DATA(self, server, session, envelope):
        if log is not None:
            mail = message_from_bytes(envelope.original_content, policy=policy.default)
            log.write(",".join(envelope.rcpt_tos) + "\\t" + str(mail["Subject"]) + "\\n")
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port={port})
controller.start()
time.sleep(86400)
"""


def start_smtp_sink(port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    args = [str(log)] if log is not None else []
    process = subprocess.Popen([sys.executable, "-c", _SERVER.format(port=port), *args])
    time.sleep(1.5)  # aiosmtpd binds in a thread after import
    return process
