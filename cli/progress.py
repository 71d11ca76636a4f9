"""Progress of a long command, as the terminal can show it: a bar with counts and rate on a
terminal (rich, which Prefect already brings), a plain line every few seconds otherwise (a log
file, a cron job's mail), so that a 50,000-unit launch shows it is alive either way."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tasks.progress import listening

PLAIN_EVERY_SECONDS = 10.0


@contextmanager
def shown() -> Iterator[None]:
    """Show the progress of the work done inside, on stderr."""
    if sys.stderr.isatty():
        with _bar() as listener, listening(listener):
            yield
    else:
        with listening(_Lines()):
            yield


class _Lines:
    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.said = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        start = self.started.setdefault(stage, now)
        if done < total and now - self.said < PLAIN_EVERY_SECONDS:
            return
        if done == 0 and total > 0:
            return
        self.said = now
        rate = done / (now - start) if now > start else 0.0
        print(f"{stage}：{done:,} / {total:,}，每秒 {rate:,.0f}", file=sys.stderr, flush=True)


@contextmanager
def _bar() -> Iterator[Any]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        tasks: dict[str, Any] = {}
        started: dict[str, float] = {}

        def listener(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total, rate="")
                started[stage] = time.monotonic()
            elapsed = time.monotonic() - started[stage]
            rate = f"每秒 {done / elapsed:,.0f}" if elapsed > 0 and done else ""
            progress.update(tasks[stage], completed=done, total=total, rate=rate)

        yield listener
