"""Pictures benchmark: `duban report` of a campaign whose units sent very large pictures.

    .venv/bin/python -m bench.pictures [--picture 7000x7000] [--count 2] [--bomb] [--keep]

A campaign of three units is launched with the launch's own code (planning only, no notices
sent). The first `--count` units each submit one RGB PNG of `--picture` pixels through their
link's code path. With `--bomb`, the last unit's stored picture is then replaced on disk by a
13000x13000 black PNG (about 500 KB, 676 MB once decoded), as a file stored before uploads
were measured would be. Then `duban report --latest --no-send` runs as a real process, and
its wall time and peak RSS are measured: the peak is `ru_maxrss` of the children of the
tests' small launcher (`tests.helpers.duban_peak`), so that the report's process does not
start at the size of this one, which held the pictures it made.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from docx import Document

from bench.environment import use_bench_environment
from bench.launch import _fresh_database, plan_campaign
from bench.web import LAUNCHED, NOW, SLUG, TZ, _campaign_file, open_units
from tests.files import big_png, png_bytes
from tests.helpers import duban_peak

ROOT = Path(__file__).resolve().parent.parent


def measured(*args: str) -> tuple[int, float, float, str]:
    """`duban …` run by the tests' launcher: its exit code, wall time, peak RSS in MB and
    what it logged."""
    start = time.perf_counter()
    done, peak = duban_peak(*args, timeout=1800)
    return done.returncode, time.perf_counter() - start, peak, done.stderr


def seed(work: Path, url: str, size: tuple[int, int], count: int, bomb: bool) -> None:
    from config.clock import parse_instant
    from flows.rehearsal import Rehearsal, Step
    from models.db import get_engine
    from tasks.link.storage import path_of
    from tasks.link.submission import find_unit

    _fresh_database(url)
    launched = parse_instant(LAUNCHED, TZ)
    path = work / "bench.yaml"
    _campaign_file(path, 3)
    registered = plan_campaign(path, launched)
    rehearsal = Rehearsal(SLUG, "bench")
    picture = work / "picture.png"
    big_png(picture, *size)
    data = picture.read_bytes()
    units = open_units(registered.campaign_id, 3, set())
    for number, (_, token) in enumerate(units):
        code = find_unit(token).row["code"]
        rehearsal.links[code] = token
        if number < count:
            files = ((f"{code}现场照片.png", data),)
        elif bomb and number == len(units) - 1:
            files = ((f"{code}大图.png", png_bytes()),)
        else:
            continue
        rehearsal.submit(Step(launched, "submit", code, f"{code}的总结。", files))
    if bomb:
        with get_engine().connect() as conn:
            relpath = conn.exec_driver_sql(
                "SELECT relpath FROM attachment ORDER BY id DESC LIMIT 1"
            ).scalar_one()
        big_png(path_of(relpath), 13000, 13000, plain=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--picture", default="7000x7000", help="each unit's PNG, WxH pixels")
    parser.add_argument("--count", type=int, default=2, help="units with such a picture (≤ 3)")
    parser.add_argument("--bomb", action="store_true", help="a stored 13000x13000 PNG too")
    parser.add_argument("--keep", action="store_true", help="keep the temp data folder")
    args = parser.parse_args()
    width, height = (int(v) for v in args.picture.lower().split("x"))
    work = Path(tempfile.mkdtemp(prefix="duban-bench-pictures-"))
    url = use_bench_environment(
        work, PREFECT_PROFILE="ephemeral", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120"
    )
    try:
        seed(work, url, (width, height), args.count, args.bomb)
        out = work / "report"
        code, seconds, peak, logged = measured(
            "report", SLUG, "--latest", "--no-send", "--out", str(out), "--now", NOW
        )
        if code != 0:
            raise SystemExit(f"the report failed:\n{logged[-4000:]}")
        shapes = len(Document(str(out / f"{SLUG}-report.docx")).inline_shapes)
        bomb = " and a stored 13000x13000 PNG" if args.bomb else ""
        print(f"duban report, {args.count} unit(s) with a {width}x{height} PNG{bomb}:")
        print(f"  wall time {seconds:.1f} s, peak RSS {peak:.0f} MB")
        print(f"  pictures in the Word document (the chart included): {shapes}")
        for line in logged.splitlines():
            if "not embedded" in line:
                print(f"  logged: {line.strip()}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
