"""The report as an HTML page (with its pictures in a folder beside it) and a CSV of the
statistics. Departments' text is data: escaped in HTML, written verbatim in the CSV."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from config.clock import local, month_day
from config.private_files import open_private, private_folder, write_private
from tasks.imaging import over_cap
from tasks.link.names import extension
from tasks.link.policy import BROWSER_PICTURES
from tasks.link.storage import path_of
from tasks.messages.labels import STATUS_LABELS
from tasks.report import wording
from tasks.report.chart import progress_svg
from tasks.report.facts import Report
from tasks.spreadsheet import SafeWriter


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("tasks", "templates"), autoescape=True, undefined=StrictUndefined
    )
    return env.get_template("report.html.j2")


def write_html(report: Report, out_dir: Path) -> Path:
    """`<slug>-report.html`, with the pictures it shows copied to `<slug>-files/`."""
    private_folder(out_dir)
    files = out_dir / f"{report.slug}-files"
    tz = report.timezone
    units = []
    for u in report.units:
        shown = []
        for a in u.attachments:
            item = {**a, "shown": None}
            # A picture over the pixel cap stays a name: a browser decodes what a page shows
            # whole, and would stall on it as the report would have (the Word document's log
            # says so for each).
            if extension(a["name"]) in BROWSER_PICTURES and not over_cap(
                path_of(a["relpath"]), a["name"]
            ):
                private_folder(files)
                target = files / f"{a['id']}.{a['name'].rsplit('.', 1)[-1].lower()}"
                _place(path_of(a["relpath"]), target)
                item["shown"] = f"{files.name}/{target.name}"
            shown.append(item)
        units.append(shown)
    html = _template().render(
        r=_with_attachments(report, units),
        title=wording.title(report),
        as_of=wording.as_of(report),
        opening=wording.opening(report),
        overview=wording.overview(report),
        dated=wording.dated(report),
        heading=wording.unit_heading,
        closing=wording.closing_sections(report),
        figures=wording.figure_rows(report),
        sent=lambda unit: wording.messages_text(unit, tz),
        labels=STATUS_LABELS,
        times=[
            month_day(local(u.submitted_at, tz)) if u.submitted_at else "未报送"
            for u in report.units
        ],
        chart=progress_svg(report),
    )
    path = out_dir / f"{report.slug}-report.html"
    write_private(path, html)
    return path


def _place(source: Path, target: Path) -> None:
    """The picture beside the page: a hard link where the folder is on the same disk (a stored
    attachment is never modified, and 2,000 phone photos would be gigabytes copied), else a
    copy."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        with source.open("rb") as read, open_private(target) as write:
            shutil.copyfileobj(read, write)


def write_csv(report: Report, out_dir: Path) -> Path:
    """One row per unit, in the notice's order; UTF-8 with a BOM so that Excel opens it as
    such. Dates (`2021-09-30`) and times (`23:59`) in their own ISO columns, local to the
    campaign, so that a spreadsheet sorts and filters them; days overdue of a unit that never
    delivered are counted to the report's time."""
    private_folder(out_dir)
    path = out_dir / f"{report.slug}-statistics.csv"
    tz = report.timezone
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = SafeWriter(handle)
        writer.writerow(CSV_HEADER)
        for number, u in enumerate(report.units, start=1):
            due = local(u.due_at, tz)
            first = local(u.submitted_at, tz) if u.submitted_at else None
            writer.writerow(
                [
                    number,
                    u.code,
                    u.name,
                    STATUS_LABELS[u.status],
                    due.date().isoformat(),
                    f"{due:%H:%M}",
                    first.date().isoformat() if first else "",
                    f"{first:%H:%M}" if first else "",
                    u.days_late,
                    "是" if u.revised else "否",
                    len(u.messages),
                    len(u.attachments),
                    u.headline,
                    len(u.summary) if u.summary is not None else "",
                ]
            )
    return path


CSV_HEADER = [
    "序号",
    "单位代码",
    "单位名称",
    "状态",
    "截止日期",
    "截止时间",
    "首次报送日期",
    "首次报送时间",
    "逾期天数",
    "退回修改后重报",
    "提醒与督办次数",
    "附件数",
    "标题",
    "总结字数",
]


def _with_attachments(report: Report, units: list[list[dict[str, object]]]) -> Report:
    return replace(
        report,
        units=[replace(u, attachments=a) for u, a in zip(report.units, units, strict=True)],
    )
