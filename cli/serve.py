"""`duban serve`: keep a one-machine install running with nothing else to set up.

Prefect refuses to schedule on its ephemeral server, so the schedule is kept here: a pass of
the monitor flow at every multiple of the interval on the wall clock (09:00, 09:15, …). Each
pass is a real Prefect flow run on the in-process API, as `duban monitor` is. A pass that
fails is logged and the next one runs on time; SIGTERM or Ctrl-C stops between passes.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING

from cli.exits import Refused
from cli.monitor import one_pass
from config.clock import now as clock_now

if TYPE_CHECKING:
    from cli.exits import Commands

log = logging.getLogger("duban.serve")


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    serve = commands.add_parser("serve", help="run the monitor on its schedule until stopped")
    serve.add_argument("--interval", type=int, default=15, help="minutes between passes")
    serve.add_argument("--passes", type=int, default=None, help=argparse.SUPPRESS)
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.interval <= 24 * 60:
        raise Refused("--interval: give minutes between 1 and 1440")
    return serve(args.interval, one_pass, args.passes)


def next_tick(at: datetime, interval_s: int) -> float:
    """Seconds from `at` to the next multiple of the interval since the epoch."""
    epoch = at.timestamp()
    return interval_s - (epoch % interval_s) or float(interval_s)


def serve(interval_minutes: int, run_pass: Callable[[], object], passes: int | None = None) -> int:
    """Run `run_pass` on the schedule until stopped (or `passes` times, for tests)."""
    from prefect.exceptions import TerminationSignal  # here: `duban --help` needs no Prefect

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current pass", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    interval_s = interval_minutes * 60
    done = 0
    print(f"duban serve: monitor every {interval_minutes} min; Ctrl-C to stop", flush=True)
    while not stop.is_set() and (passes is None or done < passes):
        started = time.monotonic()
        try:
            run_pass()
        except TerminationSignal:  # Prefect's own SIGTERM handler, during a flow run
            break
        except Exception:
            log.exception("monitor pass failed; the next one runs on schedule")
        # A flow run installs Prefect's signal handlers; between passes, ours decide.
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        done += 1
        sys.stdout.flush()  # a log file shows each pass as it ends
        log.info("pass took %.1f s", time.monotonic() - started)
        if passes is not None and done >= passes:
            break
        stop.wait(next_tick(clock_now(), interval_s))
    return 0
