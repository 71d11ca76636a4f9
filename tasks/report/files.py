"""The report as files a lead office files and forwards: an HTML page (with its pictures in
a folder beside it) and a CSV of the statistics. Departments' text is data: escaped in HTML,
written verbatim in the CSV."""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from config.clock import format_local, local
from config.settings import get_settings
from tasks import attachments
from tasks.overdue import artifact_key
from tasks.rendering import STATUS_LABELS, format_deadline, period_text
from tasks.report import Report

SHOWN_IMAGES = ("jpg", "jpeg", "png", "gif", "webp")


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("tasks", "templates"), autoescape=True, undefined=StrictUndefined
    )
    return env.get_template("report.html.j2")


def write_html(report: Report, out_dir: Path) -> Path:
    """`<slug>-report.html`, with the pictures it shows copied to `<slug>-files/`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = out_dir / f"{report.slug}-files"
    tz = report.timezone
    units = []
    for u in report.units:
        shown = []
        for a in u.attachments:
            item = {**a, "shown": None}
            if a["name"].rsplit(".", 1)[-1].lower() in SHOWN_IMAGES:
                files.mkdir(exist_ok=True)
                target = files / f"{a['id']}.{a['name'].rsplit('.', 1)[-1].lower()}"
                _place(attachments.path_of(a["relpath"]), target)
                item["shown"] = f"{files.name}/{target.name}"
            shown.append(item)
        units.append(shown)
    html = _template().render(
        r=_with_attachments(report, units),
        f=report.figures,
        generated=format_local(report.generated_at, tz),
        deadline=format_deadline(report.due_at, tz),
        period=period_text(report.spec),
        labels=STATUS_LABELS,
        times={
            u.code: format_local(u.submitted_at, tz) if u.submitted_at else "未报送"
            for u in report.units
        },
        brief=lambda moment: f"{local(moment, tz).month}月{local(moment, tz).day}日",
        chart=progress_svg(report),
    )
    path = out_dir / f"{report.slug}-report.html"
    path.write_text(html, encoding="utf-8")
    return path


def _place(source: Path, target: Path) -> None:
    """The picture beside the page: a hard link where the folder is on the same disk (a stored
    attachment is never modified, and 2,000 phone photos would be gigabytes copied), else a
    copy."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_csv(report: Report, out_dir: Path) -> Path:
    """One row per unit; UTF-8 with a BOM so that Excel opens it as such."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{report.slug}-statistics.csv"
    tz = report.timezone
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "单位代码",
                "单位名称",
                "状态",
                "截止时间",
                "首次提交时间",
                "逾期天数",
                "退回修改后重报",
                "提醒与督办次数",
                "附件数",
            ]
        )
        for u in report.units:
            writer.writerow(
                [
                    u.code,
                    u.name,
                    STATUS_LABELS[u.status],
                    format_local(u.due_at, tz),
                    format_local(u.submitted_at, tz) if u.submitted_at else "",
                    u.days_late,
                    "是" if u.revised else "否",
                    len(u.messages),
                    len(u.attachments),
                ]
            )
    return path


def progress_svg(report: Report, width: int = 860, height: int = 240) -> str:
    """Units submitting per day as bars, with the deadline's day marked: plain SVG, no
    script, so the page needs nothing from the network."""
    days = report.by_day
    if not days:
        return ""
    top = max(n for _, n in days) or 1
    step = (width - 40) / len(days)
    due_day = date.fromordinal(local(report.due_at, report.timezone).toordinal())
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="每日报送单位数">'
    ]
    for i, (day, n) in enumerate(days):
        x = 30 + i * step
        h = (height - 50) * n / top
        parts.append(
            f'<rect x="{x:.1f}" y="{height - 30 - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="#b4232a"><title>{escape(day.isoformat())}：{n}</title></rect>'
        )
        if n:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 34 - h:.1f}" font-size="11" '
                f'text-anchor="middle">{n}</text>'
            )
        if day == due_day:
            parts.append(
                f'<line x1="{x + step:.1f}" x2="{x + step:.1f}" y1="10" y2="{height - 30}" '
                'stroke="#333" stroke-dasharray="4"/>'
            )
        if i == 0 or i == len(days) - 1 or day == due_day:
            parts.append(
                f'<text x="{x:.1f}" y="{height - 12}" font-size="11">{day.month}/{day.day}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _with_attachments(report: Report, units: list[list[dict[str, object]]]) -> Report:
    return replace(
        report,
        units=[replace(u, attachments=a) for u, a in zip(report.units, units, strict=True)],
    )


def write_files(report: Report, out: str | None = None) -> list[Path]:
    """The three forms of the report, in `out` (default: the data folder's reports/<slug>/)."""
    from tasks.report_docx import write_docx

    folder = Path(out) if out else get_settings().data_dir / "reports" / report.slug
    return [write_docx(report, folder), write_html(report, folder), write_csv(report, folder)]


def publish_report(report: Report, files: list[Path]) -> None:
    """The figures and where the files are, as a Prefect markdown artifact."""
    f = report.figures
    lines = [
        f"# {report.title}{report.kind}",
        f"截至{format_local(report.generated_at, report.timezone)}",
        "",
        "| 参加单位 | 按时报送 | 逾期报送 | 未报送 | 退回修改后重报 | 提醒、催办 | 督办 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {f.units} | {f.on_time} | {f.late} | {f.missing} | {f.returned_and_revised} "
        f"| {f.reminders_sent} | {f.escalations_sent} |",
        "",
        *(f"- `{path}`" for path in files),
    ]
    create_markdown_artifact("\n".join(lines), key=artifact_key("report", report.slug))


write_files_task = task(name="write-report-files", cache_policy=NO_CACHE)(write_files)
publish_report_task = task(name="publish-report", cache_policy=NO_CACHE)(publish_report)
