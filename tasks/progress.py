"""How far a long piece of work has got, for whoever watches it in this process.

A launch of 50,000 units or a large monitor pass runs for minutes. The flows say how far
they are (`advance`); a command run from a terminal listens (`listening`) and draws a bar or
prints a line now and then (see `cli.progress`). Nobody listening costs a list lookup: a flow
run by a Prefect worker has no listener, and its progress is its task runs in Prefect's UI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# stage (what is counted, in the words the coordinator reads), done, total
Listener = Callable[[str, int, int], None]

_listeners: list[Listener] = []
_lock = threading.Lock()


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def advance(stage: str, done: int, total: int) -> None:
    """`done` of `total` of `stage` are through. Called from the senders' recording thread."""
    for listener in list(_listeners):
        listener(stage, done, total)


class Counter:
    """A running count of one stage over several batches, said to the listeners."""

    def __init__(self, stage: str, total: int) -> None:
        self.stage, self.total, self.done = stage, total, 0
        advance(stage, 0, total)

    def add(self, count: int = 1) -> None:
        self.done += count
        if _listeners:
            advance(self.stage, self.done, self.total)
