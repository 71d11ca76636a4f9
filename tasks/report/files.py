"""The report's three files written side by side, and published to Prefect."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from config.clock import format_local
from config.settings import get_settings
from tasks.overdue import artifact_key
from tasks.report import docx, html_csv, wording
from tasks.report.facts import Report


@task(name="write-report-files", cache_policy=NO_CACHE)
def write_files(report: Report, out: str | None = None) -> list[Path]:
    """The three forms of the report, in `out` (default: the data folder's reports/<slug>/)."""
    folder = Path(out) if out else get_settings().data_dir / "reports" / report.slug
    # Looked up in their modules when called, so that a benchmark can time each one.
    return [
        docx.write_docx(report, folder),
        html_csv.write_html(report, folder),
        html_csv.write_csv(report, folder),
    ]


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_report(report: Report, files: list[Path]) -> None:
    """The figures and where the files are, as a Prefect markdown artifact."""
    rows = wording.figure_rows(report)
    lines = [
        f"# {wording.title(report)}",
        f"截至{format_local(report.generated_at, report.timezone)}",
        "",
        "| " + " | ".join(label for label, _ in rows) + " |",
        "| " + " | ".join("---" for _ in rows) + " |",
        "| " + " | ".join(str(value) for _, value in rows) + " |",
        "",
        *(f"- `{path}`" for path in files),
    ]
    create_markdown_artifact("\n".join(lines), key=artifact_key("report", report.slug))
