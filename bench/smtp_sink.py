"""A local SMTP server that accepts every message, in its own process (so that its work does
not share the benchmark's interpreter)."""

from __future__ import annotations

import subprocess
import sys
import time

_SERVER = """
import time
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port={port})
controller.start()
time.sleep(86400)
"""


def start_smtp_sink(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", _SERVER.format(port=port)])
    time.sleep(1.5)  # aiosmtpd binds in a thread after import
    return process
