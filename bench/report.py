"""Report benchmark: the final report of a campaign whose every unit sent one picture.

    .venv/bin/python -m bench.report [--units 2000] [--database-url URL]
                                     [--picture 1920x1440] [--keep]

One campaign of `--units` units is launched with the launch's own code (planning only, no
notices sent). Every unit then submits a summary and one photo through its personal link's
code path and the coordinator accepts it, played by `flows.rehearsal` (the real attachment
store: one file per unit on disk). The photos are a handful of generated
pictures, each unit's cropped differently and stamped with its code, so that no two units'
pictures are the same bytes or the same pixels (the Word document stores identical pictures
once, which would flatter it).

Then `report_flow(..., final=True)` runs in a fresh process, as `duban report --final` would
(without sending it, if the flow can send), and is measured there: the flow's wall time
(Prefect's start included, and shown apart), the time of each part (collect, Word, HTML, CSV),
the process's peak RSS, and the sizes of the files it wrote.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.environment import use_bench_environment
from bench.launch import _fresh_database, plan_campaign
from bench.web import (
    LAUNCHED,
    NOW,
    SLUG,
    TZ,
    USERNAME,
    _campaign_file,
    _vm_hwm_kb,
    open_units,
)

ROOT = Path(__file__).resolve().parent.parent
DISTINCT_PICTURES = 6  # generated once; every unit gets its own crop and stamp of one of them
MARGIN = 64  # pixels the crop can move by, so that units' pictures differ everywhere


# --- pictures ----------------------------------------------------------------------------------


def photo(width: int, height: int, seed: int) -> Any:
    """A picture that compresses like a photo: a sky, shapes in many colours, sensor grain."""
    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    sky = Image.linear_gradient("L").resize((width, height))
    picture = Image.merge(
        "RGB",
        (
            sky.point(lambda v: 90 + v // 3),
            sky.point(lambda v: 120 + v // 4),
            sky.point(lambda v: 200 - v // 3),
        ),
    )
    draw = ImageDraw.Draw(picture)
    for _ in range(120):
        x, y = rnd.randrange(width), rnd.randrange(height // 3, height)
        r = rnd.randrange(width // 60, width // 8)
        colour = (rnd.randrange(30, 230), rnd.randrange(30, 230), rnd.randrange(30, 230))
        shape = draw.ellipse if rnd.random() < 0.5 else draw.rectangle
        shape((x - r, y - r // 2, x + r, y + r), fill=colour)
    picture = picture.filter(ImageFilter.GaussianBlur(2))
    grain = Image.merge("RGB", [Image.effect_noise((width, height), 24) for _ in range(3)])
    return Image.blend(picture, grain, 0.25)


def unit_picture(bases: list[Any], number: int, code: str, size: tuple[int, int]) -> bytes:
    """Unit `number`'s own JPEG: a crop of one of `bases`, stamped with its code."""
    from PIL import ImageDraw

    base = bases[number % len(bases)]
    dx, dy = (number * 7) % MARGIN, (number * 13) % MARGIN
    picture = base.crop((dx, dy, dx + size[0], dy + size[1]))
    ImageDraw.Draw(picture).text((40, 40), f"{code} {number}", fill=(255, 255, 255))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


# --- seeding -----------------------------------------------------------------------------------


def seed(work: Path, url: str, n: int, size: tuple[int, int]) -> dict[str, Any]:
    """Launch (planning only), then one accepted summary with one photo from every unit."""
    from datetime import timedelta

    from config.clock import parse_instant
    from flows.rehearsal import Rehearsal, Step
    from tasks.link.submission import find_unit

    _fresh_database(url)
    launched = parse_instant(LAUNCHED, TZ)
    path = work / "bench.yaml"
    _campaign_file(path, n)
    start = time.perf_counter()
    registered = plan_campaign(path, launched)
    launched_s = time.perf_counter() - start
    due = registered.due_at

    start = time.perf_counter()
    bases = [photo(size[0] + MARGIN, size[1] + MARGIN, seed) for seed in range(DISTINCT_PICTURES)]
    rehearsal = Rehearsal(SLUG, USERNAME)
    rnd = random.Random(2026)
    stored = 0
    picture_s = 0.0
    # Every unit, each with its link rebuilt from the key (the web benchmark's helper).
    for number, (_, token) in enumerate(open_units(registered.campaign_id, n, set())):
        row = find_unit(token).row
        code = row["code"]
        rehearsal.links[code] = token
        begun = time.perf_counter()
        data = unit_picture(bases, number, code, size)
        picture_s += time.perf_counter() - begun
        stored += len(data)
        # Over the last two weeks before the deadline, one in twenty a few days late.
        late = rnd.random() < 0.05
        at = (
            (due + timedelta(days=rnd.uniform(0.1, 6)))
            if late
            else (due - timedelta(days=rnd.uniform(0.1, 14)))
        )
        summary = f"{row['name']}开展了质量月活动，组织培训、检查和宣传。" * 20
        rehearsal.submit(Step(at, "submit", code, summary, ((f"{code}活动现场.jpg", data),)))
        rehearsal.accept(Step(max(at, due) + timedelta(days=1), "accept", code))
    return {
        "launch_s": launched_s,
        "submit_s": time.perf_counter() - start - picture_s,
        "pictures_s": picture_s,
        "stored_bytes": stored,
    }


# --- the measured run --------------------------------------------------------------------------


def peak_mb() -> float:
    """This process's peak RSS. Not `ru_maxrss`: Linux keeps it across fork and exec, so a
    child started by a big parent (this one holds the photos it made) starts at its size."""
    return _vm_hwm_kb(os.getpid()) / 1024


def timed(parts: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, adding its time to `parts[name]`; `parts["first_call"]`: when a part first ran."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        parts.setdefault("first_call", start)
        try:
            return fn(*args, **kwargs)
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - start

    return wrapper


def phase_report(out: Path) -> dict[str, Any]:
    """The report flow as `duban report --final` runs it, each part timed from outside."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    import flows.report
    from config.clock import parse_instant
    from tasks.report import docx, html_csv
    from tasks.report.facts import collect

    parts: dict[str, float] = {}
    # The flow and `write_files` look these names up when they run, so the wrapped ones are
    # the ones called; nothing else about the flow changes.
    flows.report.collect = task(name="collect-report", cache_policy=NO_CACHE)(
        timed(parts, "collect", collect.fn)
    )
    docx.write_docx = timed(parts, "docx", docx.write_docx)
    html_csv.write_html = timed(parts, "html", html_csv.write_html)
    html_csv.write_csv = timed(parts, "csv", html_csv.write_csv)
    kwargs: dict[str, Any] = {"out": str(out), "final": True, "now": parse_instant(NOW, TZ)}
    if "send" in inspect.signature(flows.report.report_flow.fn).parameters:
        kwargs["send"] = False  # the report is measured here, not the mail server
    before_mb = peak_mb()
    start = time.perf_counter()
    summary = flows.report.report_flow(SLUG, **kwargs)
    total = time.perf_counter() - start
    # From calling the flow to its first task's work: Prefect's start (its server and the run).
    parts["until_collect"] = parts.pop("first_call") - start
    return {
        "flow_s": total,
        "parts_s": parts,
        "files": [str(p) for p in summary.files],
        "peak_before_flow_mb": before_mb,
    }


def _run_phase(env: dict[str, str], out: Path) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-m", "bench.report", "--phase", "report", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise SystemExit(f"the report failed:\n{run.stderr[-3000:]}")
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def _folder_bytes(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()] if path.exists() else []
    return sum(p.stat().st_size for p in files), len(files)


def _docx_pictures(path: Path) -> tuple[int, int, tuple[int, int]]:
    """(pictures in the document, their bytes, the largest one's pixel size)."""
    from PIL import Image

    with zipfile.ZipFile(path) as docx:
        media = [i for i in docx.infolist() if i.filename.startswith("word/media/")]
        largest = (0, 0)
        for info in media:
            with Image.open(io.BytesIO(docx.read(info))) as picture:
                largest = max(largest, picture.size, key=max)
    return len(media), sum(i.file_size for i in media), largest


def _mb(size: float) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--picture", default="1920x1440", help="each unit's photo, WxH pixels")
    parser.add_argument("--keep", action="store_true", help="keep the temp data folder")
    parser.add_argument("--phase", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()

    if args.phase:
        result = phase_report(Path(args.out))
        print(json.dumps({**result, "peak_mb": peak_mb()}))
        return

    width, height = (int(v) for v in args.picture.lower().split("x"))
    work = Path(tempfile.mkdtemp(prefix="duban-bench-report-"))
    url = use_bench_environment(work, args.database_url)
    db = url.split("://", 1)[0].split("+", 1)[0]
    try:
        print(f"report benchmark: {args.units:,} units, {db}, data in {work}", flush=True)
        seeded = seed(work, url, args.units, (width, height))
        print(
            f"  seeded: launch {seeded['launch_s']:.1f} s, pictures made in "
            f"{seeded['pictures_s']:.1f} s, submitted and accepted in {seeded['submit_s']:.1f} s",
            flush=True,
        )
        out = work / "report"
        result = _run_phase(dict(os.environ), out)
        parts = result["parts_s"]
        docx = out / f"{SLUG}-report.docx"
        html = out / f"{SLUG}-report.html"
        csv = out / f"{SLUG}-statistics.csv"
        folder, copied = _folder_bytes(out / f"{SLUG}-files")
        originals, kept = _folder_bytes(work / "data" / "attachments")
        embedded, embedded_bytes, largest = _docx_pictures(docx)
        measured = sum(parts.values())
        rest = result["flow_s"] - measured
        rows = [
            ("flow wall time (fresh process)", f"{result['flow_s']:.1f} s"),
            ("  collect", f"{parts.get('collect', 0):.1f} s"),
            ("  Word document (.docx)", f"{parts.get('docx', 0):.1f} s"),
            ("  HTML page and its pictures", f"{parts.get('html', 0):.1f} s"),
            ("  CSV", f"{parts.get('csv', 0):.2f} s"),
            ("  Prefect's start, until collect begins", f"{parts['until_collect']:.1f} s"),
            ("  the rest (task runs, artifact, end of the run)", f"{rest:.1f} s"),
            ("peak RSS of the process", f"{result['peak_mb']:,.0f} MB"),
            ("  of which before the flow (imports)", f"{result['peak_before_flow_mb']:,.0f} MB"),
            (
                "units' photos on disk (originals)",
                f"{_mb(originals)} in {kept:,} files of {width}x{height}",
            ),
            (".docx", _mb(docx.stat().st_size)),
            (
                "  pictures embedded (the chart included)",
                f"{embedded:,} ({_mb(embedded_bytes)}), largest {largest[0]}x{largest[1]} px",
            ),
            (".html", _mb(html.stat().st_size)),
            ("  its pictures folder", f"{_mb(folder)} in {copied:,} files"),
            (".csv", f"{csv.stat().st_size / 1024:,.0f} KB"),
        ]
        print()
        print(
            f"report benchmark: {args.units:,} units with one {width}x{height} photo each, "
            f"{db}; {os.cpu_count()} CPUs"
        )
        print()
        print("| measure | value |")
        print("| --- | --- |")
        for measure, value in rows:
            print(f"| {measure} | {value} |")
        if args.json:
            peak = round(result["peak_mb"])
            figures = [
                (f"report of {args.units:,} units, one photo each: flow", result["flow_s"], "s"),
                ("report: Word document", parts.get("docx", 0.0), "s"),
                ("report: .docx size", docx.stat().st_size / 2**20, "MB"),
            ]
            entries = [
                {
                    "measure": m,
                    "value": round(v, 2),
                    "unit": u,
                    "target": None,
                    "met": None,
                    "baseline": None,
                    "peak_mb": peak,
                }
                for m, v, u in figures
            ]
            entries.append(
                {
                    "measure": "report: peak memory",
                    "value": peak,
                    "unit": "MB",
                    "target": "under 500 MB",
                    "met": peak < 500,
                    "baseline": None,
                    "peak_mb": peak,
                }
            )
            args.json.write_text(
                json.dumps(
                    {"bench": "report", "database": db, "units": args.units, "results": entries},
                    ensure_ascii=False,
                    indent=1,
                ),
                encoding="utf-8",
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
