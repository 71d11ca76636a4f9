"""`duban demo`: the 大田县 2021 "Quality Month" campaign rehearsed in simulated time.

Everything runs through the real code on the embedded default (SQLite in a folder of its own,
mail to the outbox), played by `flows.rehearsal`: the launch flow, departments opening their
links to sign and submit on different days, the coordinator accepting and returning, a
monitor pass every working morning on the real 2021 calendar (the Mid-Autumn and National Day
holidays, the make-up Saturday of 9 October), and the final report the monitor makes at its
report time. The script is `cli.demo_script`; this module says what each step did.
"""

from __future__ import annotations

import argparse
import shutil
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cli.demo_script import (
    CAMPAIGN_FILE,
    COORDINATOR,
    FIRST_DAY,
    LAST_DAY,
    LAUNCHED,
    SLUG,
    TZ,
    script,
)
from cli.exits import Refused
from config.clock import local, parse_instant
from flows.rehearsal import Rehearsal, Step, isolate

if TYPE_CHECKING:
    from cli.exits import Commands
    from flows.launch import LaunchSummary
    from flows.monitor import MonitorSummary
    from tasks.link.submission import Receipt
    from tasks.messages.send import SendReport

MARKER = ".duban-demo"  # a folder with it is the demo's own, safe to wipe for a fresh run


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    demo = commands.add_parser(
        "demo", help="rehearse the 大田县 2021 campaign in simulated time, start to report"
    )
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("duban-demo"),
        help="the demo's own folder: database, outbox, reports (default: ./duban-demo)",
    )
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        prepare(args.dir)
    except OSError as exc:
        raise Refused(f"demo: {exc}") from exc
    from config.calendars import WorkCalendar

    demo = Demo(args.dir)
    print(f"duban demo: 大田县2021年“质量月”活动, rehearsed from {FIRST_DAY} to {LAST_DAY}")
    print(f"  data folder {demo.folder} (SQLite database, outbox, reports)\n")
    launched = parse_instant(LAUNCHED, TZ)
    demo.show_day(launched)
    demo.launch(CAMPAIGN_FILE, launched)
    demo.play(script(WorkCalendar()))
    demo.show_day(None)
    demo.closing()
    return 0


def prepare(folder: Path) -> None:
    """A fresh folder for the demo: its own database and outbox, nothing of the user's."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise OSError(
                f"{folder} exists and is not a demo folder; choose another with --dir "
                "(the demo starts from an empty folder and would not touch this one)"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by duban demo; removed by the next one\n")
    isolate(folder)


class Demo(Rehearsal):
    """The rehearsal, told day by day: each step says what it did, under its day."""

    def __init__(self, folder: Path) -> None:
        super().__init__(SLUG, COORDINATOR)
        self.folder = folder.resolve()
        self.day_lines: list[str] = []
        self.day: date | None = None
        self.report_files: list[Path] = []

    def before(self, step: Step) -> None:
        self.show_day(step.at)

    def launch(self, path: Path, at: datetime) -> LaunchSummary:
        summary = super().launch(path, at)
        self.say(
            f"launch: {summary.departments} departments, {summary.delivery.sent} notices with "
            f"personal links (deadline {local(summary.due_at, TZ):%Y-%m-%d %H:%M})"
        )
        return summary

    def sign(self, step: Step) -> bool:
        signed = super().sign(step)
        opened = "open their links and sign for the notice (签收): "
        if self.day_lines and self.day_lines[-1].startswith(opened):
            self.day_lines[-1] += "、" + self.names[step.code]
        else:
            self.say(opened + self.names[step.code])
        return signed

    def submit(self, step: Step) -> Receipt:
        receipt = super().submit(step)
        late = "late, " if receipt.late else ""
        pictures = ", 1 picture" if step.files else ""
        self.say(
            f"{self.names[step.code]} submits its summary "
            f"(version {receipt.version}, {late}{len(step.text)} characters{pictures})"
        )
        return receipt

    def accept(self, step: Step) -> int:
        version = super().accept(step)
        self.say(f"coordinator accepts {self.names[step.code]} (version {version})")
        return version

    def send_back(self, step: Step) -> SendReport | None:
        report = super().send_back(step)
        sent = report.sent if report else 0
        self.say(
            f"coordinator returns {self.names[step.code]} for revision: “{step.text[:24]}…” "
            f"({sent} message)"
        )
        return report

    def monitor(self, step: Step) -> MonitorSummary:
        summary = super().monitor(step)
        sent = _sent_at(step.at)
        if sent:
            self.say(f"monitor: {sent}")
        for report in summary.reports:
            self.report_files = report.files
            where = "outbox" if report.sent and report.sent.outbox else "coordinator"
            self.say(
                f"monitor: the report time has come; final report made and sent to the "
                f"coordinator ({where})"
            )
        return summary

    # --- printing ------------------------------------------------------------------------------

    def say(self, line: str) -> None:
        self.day_lines.append(line)

    def show_day(self, at: datetime | None) -> None:
        day = local(at, TZ).date() if at else None
        if day == self.day:
            return
        if self.day is not None and self.day_lines:
            print(f"{self.day} {self.day:%a}  " + self.day_lines[0])
            for line in self.day_lines[1:]:
                print(" " * 16 + line)
        self.day, self.day_lines = day, []

    def closing(self) -> None:
        from config.settings import get_settings

        outbox = get_settings().outbox_dir / SLUG
        print()
        print("Final report:")
        for path in self.report_files:
            print(f"  {path}")
        print(f"Outbox: {len(list(outbox.glob('*.eml')))} messages in {outbox}")
        print(
            "\nSee it as the coordinator does:\n"
            f"  export DUBAN_DATA_DIR={self.folder} DUBAN_NOW=2021-10-11T10:00\n"
            "  duban status datian-quality-month-2021\n"
            "  duban coordinator add zlb && duban web   # then http://127.0.0.1:8000"
        )


def _sent_at(at: datetime) -> str:
    """What the monitor pass at `at` sent, as `提醒 ×12; 督办函（单位负责人）: 县…`."""
    from models import queries as q
    from models.db import get_engine
    from tasks.messages.labels import message_label

    with get_engine().connect() as conn:
        campaign = q.campaign_by_slug(conn, SLUG)
        assert campaign is not None
        rows = q.sent_between(conn, campaign["id"], at, at + timedelta(seconds=1))
    labels = Counter(message_label(r["kind"], r["recipient"], campaign["spec"]) for r in rows)
    units = sorted({r["name"] for r in rows})
    if not labels:
        return ""
    counted = ", ".join(f"{label} ×{n}" for label, n in labels.items())
    shown = "、".join(units[:4]) + (f" and {len(units) - 4} more" if len(units) > 4 else "")
    return f"{counted} (to {shown})"
