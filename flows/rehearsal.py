"""A campaign rehearsed in simulated time, through the real code: the launch flow, departments
opening their links to sign (签收) and submit, the coordinator accepting, returning and
extending, and monitor passes, each step at its own instant.

`duban demo` plays the 大田县 2021 campaign with it, docs/screenshots.py the state its
pictures show, and bench/ the large campaigns it measures. Prefect is imported only by the
steps that run a flow: `isolate` must set Prefect's environment before Prefect is loaded.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.launch import LaunchSummary
    from flows.monitor import MonitorSummary
    from tasks.link.submission import Receipt
    from tasks.messages.send import SendReport

# Within one instant: the monitor passes first, then departments act, then the coordinator.
ORDER = {"monitor": 0, "sign": 1, "submit": 1, "accept": 2, "send_back": 2, "extend": 2}


@dataclass(frozen=True)
class Step:
    at: datetime
    action: str  # the `Rehearsal` method that plays it: a key of `ORDER`
    code: str = ""  # the unit's code, for anything but a monitor pass
    text: str = ""  # a submission's summary, or the comment a unit is sent back with
    files: tuple[tuple[str, bytes], ...] = ()  # a submission's attachments: (name, content)
    until: date | None = None  # the new deadline of an extension


def isolate(folder: Path, **environment: str) -> None:
    """The rehearsal's own world in `folder`: duban's data, its embedded database and its
    outbox (no mail relay: nothing is sent), no clock but each step's own, and flow runs on a
    local ephemeral Prefect server, never a production one that the shell or the active
    Prefect profile points at. `environment` adds variables (DUBAN_PUBLIC_URL, …)."""
    for name in (
        "DUBAN_DATABASE_URL",
        "DUBAN_SMTP_URL",
        "DUBAN_NOW",
        "DUBAN_CALENDAR_DIR",
        "DUBAN_SECRET_KEY",
        "PREFECT_API_URL",
    ):
        os.environ.pop(name, None)
    os.environ["DUBAN_DATA_DIR"] = str(folder.resolve())
    os.environ["PREFECT_PROFILE"] = "ephemeral"
    # Its own Prefect server starts with the first flow; a busy machine needs longer than
    # Prefect's default wait for it.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("DO_NOT_TRACK", "1")  # no network but the package registries
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.update(environment)
    from config.settings import get_settings
    from models.db import dispose_engines

    get_settings.cache_clear()
    dispose_engines()


class Rehearsal:
    """One campaign's steps. A subclass may say what each did (as `duban demo` does): `before` runs
    ahead of every step, and each action returns what it made."""

    def __init__(self, slug: str, coordinator: str, *, send: bool = True) -> None:
        self.slug, self.coordinator = slug, coordinator
        # False: the coordinator's actions only plan their messages, for a caller that marks
        # them delivered itself (a benchmark's hundreds of thousands).
        self.send = send
        self.links: dict[str, str] = {}  # unit code → its link's token, as its notice gave it
        self.names: dict[str, str] = {}  # unit code → its name

    def launch(self, path: Path, at: datetime) -> LaunchSummary:
        """The launch flow; every unit's link is read from its notice in the outbox."""
        from flows.launch import launch_flow

        summary = launch_flow(path=str(path), now=at)
        for copy in summary.delivery.outbox:
            self.links[copy.department_code] = copy.link.rsplit("/", 1)[-1]
            self.names[copy.department_code] = copy.department_name
        return summary

    def play(self, steps: Iterable[Step]) -> None:
        for step in sorted(steps, key=lambda s: (s.at, ORDER[s.action])):
            self.before(step)
            getattr(self, step.action)(step)

    def before(self, step: Step) -> None:
        pass

    # --- the steps ---------------------------------------------------------------------------

    def monitor(self, step: Step) -> MonitorSummary:
        from flows.monitor import monitor_flow

        return monitor_flow(now=step.at)

    def sign(self, step: Step) -> bool:
        from tasks.link.submission import acknowledge, find_unit

        return acknowledge(find_unit(self.links[step.code]), step.at)

    def submit(self, step: Step) -> Receipt:
        from tasks.link.policy import HEAD_BYTES, Limits
        from tasks.link.submission import Upload, find_unit, submit

        uploads = [
            Upload(name, content[:HEAD_BYTES], len(content), io.BytesIO(content))
            for name, content in step.files
        ]
        key = f"rehearsal-{step.code}-{step.at:%Y%m%d%H%M%S}"  # the same step, the same form
        unit = find_unit(self.links[step.code])
        return submit(unit, key, step.text, uploads, Limits.from_settings(), step.at)

    def accept(self, step: Step) -> int:
        """The unit's latest version accepted; returns its number."""
        from tasks import review

        unit = self._unit(step.code)
        version = self._latest_version(unit)
        review.accept(unit, version, self.coordinator, step.at)
        return version

    def send_back(self, step: Step) -> SendReport | None:
        """The latest version returned for revision with `step.text` as the comment."""
        from tasks import review

        unit = self._unit(step.code)
        version = self._latest_version(unit)
        planned = review.return_for_revision(unit, version, step.text, self.coordinator, step.at)
        return self._sent(planned, step.at)

    def extend(self, step: Step) -> SendReport | None:
        from tasks import review

        assert step.until is not None, "an extension names its new deadline"
        return self._sent(review.extend(self._unit(step.code), step.until, step.at), step.at)

    # --- helpers -----------------------------------------------------------------------------

    def _unit(self, code: str) -> dict[str, Any]:
        from tasks import review

        unit = review.find_unit(self.slug, code)
        if unit is None:
            raise LookupError(f"no unit {code!r} in campaign {self.slug!r}")
        return unit

    def _latest_version(self, unit: dict[str, Any]) -> int:
        from tasks.link.submission import history

        return int(history(unit["assignment_id"])[0]["version"])

    def _sent(self, planned: list[int], at: datetime) -> SendReport | None:
        from tasks import review

        return review.send_now(planned, at) if self.send else None


def activity_picture(seed: int) -> bytes:
    """A photo-sized JPEG standing in for a picture of the activity; `seed` tints it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (960, 640), (200 - seed % 40, 220, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 420, 960, 640), fill=(90, 140, 80))
    draw.rectangle((300, 180, 660, 430), fill=(180, 35, 42))  # the stage's banner
    for i in range(24):  # the crowd
        x = 40 + i * 38
        draw.ellipse((x, 470 + (i * 13) % 40, x + 26, 496 + (i * 13) % 40), fill=(40, 40, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
