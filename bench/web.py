"""Web benchmark: the coordinator's dashboard and the departments' submissions, 50,000 units.

    .venv/bin/python -m bench.web [--units 50000] [--database-url URL] [--workers N [N ...]]
                                  [--duration S] [--connections N [N ...]] [--submissions N]
                                  [--clients N] [--json PATH] [--keep]

One campaign of 50,000 units is launched with the launch's own code (planning only, no notices
sent), then brought to where a campaign stands two weeks after its deadline, through the real
code paths: notices delivered, a third of the units acknowledged (签收), the monitor's four
rungs planned at their times and marked delivered (a few failed), a few thousand summaries
submitted on time or late, some accepted, some returned, some deadlines extended (the
coordinator's actions played by `flows.rehearsal`).

Then, for each `--workers` count, `duban web` runs as its own process with DUBAN_NOW set after
the deadline, and is measured from other processes on loopback:
- dashboard: the first page of overdue units and the default first page, with wrk at each
  `--connections` count (default 2 and 8) for `--duration` seconds after a warm-up: p50, p95,
  requests per second, the server's CPU seconds per request, and responses other than 2xx;
- submissions: `--clients` concurrent clients, each opening a distinct unit's link page for
  its form key, then posting a summary and a 1 MiB JPEG. Afterwards every POST is checked in
  the database and on disk: one submission, one attachment, the file's size and SHA-256;
- peak memory of the server (VmHWM of each of its processes).

The naive baseline builds the same overdue page in this process by loading all units and
filtering, sorting and counting them in Python. `--json PATH` writes every figure with its
target, the baseline and the server's peak memory.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.launch import plan_campaign, write_campaign
from tests.receivers import free_port

ROOT = Path(__file__).resolve().parent.parent
SLUG = "bench"
TZ = "Asia/Shanghai"
# 2026: the last year the packaged calendar covers, so the ladder uses real holidays.
LAUNCHED = "2026-09-01T09:00"
DUE = "2026-09-30"
NOW = "2026-10-15T10:00"  # two weeks after the deadline, past every rung of the ladder
USERNAME = "bench-coordinator"
PASSWORD = "bench-password-123"
MIB = 1024 * 1024
PAGE_TARGET_MS = 50.0
RATE_TARGET = 200.0

WRK_SCRIPT = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p95_us\\": %d, "
    .. "\\"p99_us\\": %d, \\"max_us\\": %d, \\"non2xx\\": %d, \\"socket_errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad,
    e.connect + e.read + e.write + e.timeout))
end
"""


# --- seeding -----------------------------------------------------------------------------------


@dataclass
class Seeded:
    campaign_id: int
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    ledger_rows: int = 0


def _campaign_file(path: Path, n: int) -> None:
    write_campaign(path, n)
    text = path.read_text(encoding="utf-8")
    changed = text.replace("due: '2030-09-30'", f"due: '{DUE}'").replace(
        "lead_office: 基准测试办公室\n",
        "lead_office: 基准测试办公室\n"
        "coordinator:\n  name: 基准测试办公室\n  notify:\n  - office@bench.test\n",
    )
    assert changed.count("office@bench.test") == 1 and f"due: '{DUE}'" in changed
    path.write_text(changed, encoding="utf-8")


def seed(work: Path, url: str, n: int) -> Seeded:
    """Launch the campaign (planning only) and play its first six weeks through real code."""
    from sqlalchemy import bindparam, select, text, update

    from bench.launch import _fresh_database
    from config.calendars import WorkCalendar
    from config.clock import parse_instant
    from config.ladder import DEFAULT_LADDER, OfficeHours, rung_time
    from flows.rehearsal import Rehearsal, Step
    from models import queries as q
    from models.db import get_engine
    from models.tables import AssignmentStatus
    from tasks.accounts import save_account
    from tasks.monitor import plan_reminders

    rng = random.Random(2026)
    timings: dict[str, float] = {}
    _fresh_database(url)
    engine = get_engine(url)
    launched = parse_instant(LAUNCHED, TZ)
    path = work / "bench.yaml"
    _campaign_file(path, n)

    start = time.perf_counter()
    registered = plan_campaign(path, launched)
    timings["launch (plan)"] = time.perf_counter() - start
    campaign_id = registered.campaign_id

    start = time.perf_counter()
    N = q.NOTIFICATION

    def deliver(at: datetime, failed_share: float) -> None:
        """The planned messages go out: most delivered, a share failing with a reason."""
        with engine.begin() as conn:
            pending = list(
                conn.execute(select(N.c.id).where(N.c.state == "pending").order_by(N.c.id))
                .scalars()
                .all()
            )
            failed = rng.sample(pending, int(len(pending) * failed_share))
            for chunk in q._chunks(failed):
                conn.execute(
                    update(N)
                    .where(N.c.id.in_(chunk))
                    .values(
                        state="failed",
                        attempts=3,
                        last_error="[Errno 111] Connection refused",
                        next_attempt_at=at + timedelta(hours=4),
                        updated_at=at,
                    )
                )
            conn.execute(
                update(N)
                .where(N.c.state == "pending")
                .values(state="sent", attempts=1, sent_at=at, updated_at=at)
            )

    deliver(launched + timedelta(minutes=10), 0.002)
    with engine.connect() as conn:
        ids = [
            int(i)
            for i in conn.execute(
                select(q.ASSIGNMENT.c.id)
                .where(q.ASSIGNMENT.c.campaign_id == campaign_id)
                .order_by(q.ASSIGNMENT.c.id)
            ).scalars()
        ]
        codes = dict(
            conn.execute(
                select(q.ASSIGNMENT.c.id, q.DEPARTMENT.c.code).join(
                    q.DEPARTMENT, q.DEPARTMENT.c.id == q.ASSIGNMENT.c.department_id
                )
            ).all()
        )
    shuffled = ids[:]
    rng.shuffle(shuffled)
    # Disjoint groups of units, each taking one path through the campaign.
    n_on_time, n_late, n_extended = n * 4 // 100, n * 3 // 100, n // 100
    on_time = shuffled[:n_on_time]
    late = shuffled[n_on_time : n_on_time + n_late]
    extended = shuffled[n_on_time + n_late : n_on_time + n_late + n_extended]
    acknowledged = shuffled[: n * 35 // 100]  # includes most of those that submit

    # 签收 over the first three weeks (bulk: the link page's own statement, one per unit).
    with engine.begin() as conn:
        rows = [
            {
                "aid": a,
                "at": launched + timedelta(hours=rng.uniform(1, 20 * 24)),
            }
            for a in acknowledged
        ]
        conn.execute(
            update(q.ASSIGNMENT)
            .where(q.ASSIGNMENT.c.id == bindparam("aid"))
            .values(
                status=AssignmentStatus.ACKNOWLEDGED,
                acknowledged_at=bindparam("at"),
                updated_at=bindparam("at"),
            ),
            rows,
        )

    # The coordinator's actions plan their messages; `deliver` marks them sent with the rest.
    coordinator = Rehearsal(SLUG, USERNAME, send=False)
    due_at = registered.due_at
    calendar, hours = WorkCalendar(), OfficeHours()
    rungs = [rung_time(r, due_at, TZ, hours, calendar) for r in DEFAULT_LADDER]

    def submit_all(units: list[int], at: datetime) -> None:
        """Summaries as `tasks.link.submission.submit` stores them (its statements, no files)."""
        with engine.begin() as conn:
            for i, a in enumerate(units):
                moment = at + timedelta(seconds=7 * i)
                due = q.mark_submitted(conn, a, moment)
                assert due is not None
                made = q.insert_submission(
                    conn,
                    {
                        "assignment_id": a,
                        "form_key": secrets.token_urlsafe(24),
                        "summary": f"{codes[a]}单位质量月活动总结。" * 40,
                        "created_at": moment,
                        "late": due < moment,
                    },
                )
                assert made is not None

    plan_reminders.fn(rungs[0])  # reminder, 3 working days before the deadline
    deliver(rungs[0] + timedelta(minutes=20), 0.01)
    submit_all(on_time, rungs[0] + timedelta(days=1))
    at = rungs[0] + timedelta(days=2)
    # More time for one unit in a hundred, through the dashboard's action.
    coordinator.play(Step(at, "extend", codes[a], until=date(2026, 10, 30)) for a in extended)
    deliver(at + timedelta(minutes=5), 0.0)
    plan_reminders.fn(rungs[1])  # urgent, the deadline day
    deliver(rungs[1] + timedelta(minutes=20), 0.01)
    plan_reminders.fn(rungs[2])  # overdue, to the unit and the coordinator
    deliver(rungs[2] + timedelta(minutes=20), 0.01)
    submit_all(late, rungs[2] + timedelta(hours=3))
    plan_reminders.fn(rungs[3])  # escalation (no head or leaders: the coordinator)
    deliver(rungs[3] + timedelta(minutes=20), 0.01)
    at = rungs[3] + timedelta(days=2)
    submitted = on_time + late
    accepted = len(submitted) * 3 // 10
    coordinator.play(Step(at, "accept", codes[a]) for a in submitted[:accepted])
    coordinator.play(
        Step(at, "send_back", codes[a], "请补充活动现场照片。")
        for a in submitted[accepted : accepted + n // 250]
    )
    deliver(at + timedelta(minutes=5), 0.0)
    with engine.begin() as conn:
        q.refresh_statistics(conn)  # as autovacuum would have by now (PostgreSQL only)
    timings["campaign played to the benchmark's day"] = time.perf_counter() - start
    save_account(USERNAME, PASSWORD, launched)

    now = parse_instant(NOW, TZ)
    with engine.connect() as conn:
        counts = q.status_counts(conn, campaign_id, now)
        ledger = int(conn.execute(text("SELECT count(*) FROM notification")).scalar_one())
    return Seeded(campaign_id, timings, counts, ledger)


# --- the server --------------------------------------------------------------------------------


class Server:
    """`duban web` in its own process (with its workers), on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "web",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log = log

    def wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                # With several workers, let every one of them come up before measuring.
                up = httpx.get(self.base + "/login", timeout=2).status_code == 200
                if up and len(self.worker_pids()) >= self.workers:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"duban web did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the server itself, or its worker children."""
        if self.workers == 1:
            return [self.process.pid]
        return [p for p in _children(self.process.pid) if "spawn_main" in _cmdline(p)]

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time (user + system) used so far by each serving process."""
        ticks = os.sysconf("SC_CLK_TCK")
        out = {}
        for pid in self.worker_pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return out

    def peak_rss_mb(self) -> tuple[float, float]:
        """(summed VmHWM of the serving processes, VmHWM of the supervisor if any), in MB."""
        workers = sum(_vm_hwm_kb(p) for p in self.worker_pids()) / 1024
        supervisor = _vm_hwm_kb(self.process.pid) / 1024 if self.workers > 1 else 0.0
        return workers, supervisor

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; the ppid follows the state.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def log_in(base: str) -> str:
    import httpx

    response = httpx.post(
        base + "/login",
        data={"username": USERNAME, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
        timeout=30,
    )
    if response.status_code != 303 or "duban_session" not in response.cookies:
        raise SystemExit(f"login failed: HTTP {response.status_code}")
    return str(response.cookies["duban_session"])


# --- dashboard under wrk -----------------------------------------------------------------------


def check_page(url: str, cookie: str, rows: int) -> None:
    """The page is the real one: signed in, with its table of units."""
    import httpx

    response = httpx.get(url, cookies={"duban_session": cookie}, timeout=30)
    found = response.text.count("data-code=")
    if response.status_code != 200 or found != rows:
        raise SystemExit(f"{url}: HTTP {response.status_code}, {found} units listed")


def wrk(
    url: str, cookie: str, seconds: float, script: Path, connections: int, close: bool = False
) -> dict[str, Any]:
    """wrk's figures for one page; `close`: a new connection for every request."""
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        "-H",
        f"Cookie: duban_session={cookie}",
        *(["-H", "Connection: close"] if close else []),
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = dict(json.loads(line.removeprefix("RESULT ")))
    result["per_s"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


# --- submissions -------------------------------------------------------------------------------


@dataclass
class Posted:
    assignment_id: int
    form_key: str = ""
    get_status: int = 0
    post_status: int = 0
    location: str = ""
    sha256: str = ""
    get_s: float = 0.0
    post_s: float = 0.0
    error: str = ""


def jpeg_body(base: bytes, index: int) -> bytes:
    """1 MiB that opens like a JPEG (SOI, APP0/JFIF) and ends like one, unique per index."""
    body = bytearray(base)
    body[20:28] = index.to_bytes(8, "big")
    return bytes(body)


def jpeg_base() -> bytes:
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    tail = b"\xff\xd9"
    return head + random.Random(1).randbytes(MIB - len(head) - len(tail)) + tail


def run_submissions(
    base_url: str, units: list[tuple[int, str]], clients: int, start_index: int
) -> tuple[list[Posted], float]:
    """Each client opens a unit's link page, takes its form key, and posts a summary with a
    1 MiB JPEG; every unit is posted to once. Returns the outcomes and the wall time."""
    import httpx

    base = jpeg_base()
    local = threading.local()
    form_key = re.compile(r'name="form_key" value="([^"]+)"')

    def one(item: tuple[int, tuple[int, str]]) -> Posted:
        index, (assignment_id, token) = item
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base_url, timeout=120)
        out = Posted(assignment_id)
        try:
            t0 = time.perf_counter()
            page = client.get(f"/d/{token}")
            out.get_s = time.perf_counter() - t0
            out.get_status = page.status_code
            found = form_key.search(page.text)
            if page.status_code != 200 or found is None:
                out.error = f"link page HTTP {page.status_code}"
                return out
            out.form_key = found.group(1)
            body = jpeg_body(base, start_index + index)
            out.sha256 = hashlib.sha256(body).hexdigest()
            t0 = time.perf_counter()
            response = client.post(
                f"/d/{token}",
                data={
                    "action": "submit",
                    "form_key": out.form_key,
                    "summary": f"第{assignment_id}单位质量月活动总结：开展宣传、检查与培训。" * 20,
                },
                files={"attachments": ("活动现场照片.jpg", body, "image/jpeg")},
            )
            out.post_s = time.perf_counter() - t0
            out.post_status = response.status_code
            out.location = response.headers.get("location", "")
        except httpx.HTTPError as exc:
            out.error = f"{type(exc).__name__}: {exc}"
        return out

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, enumerate(units)))
    return results, time.perf_counter() - start


def open_units(campaign_id: int, count: int, taken: set[int]) -> list[tuple[int, str]]:
    """Overdue units that never submitted, with their personal links rebuilt from the key."""
    from sqlalchemy import select

    from models import queries as q
    from models.db import get_engine
    from tasks.messages.tokens import derive_token, secret_key

    A, T = q.ASSIGNMENT, q.TOKEN
    query = (
        select(A.c.id, T.c.salt)
        .join(T, T.c.assignment_id == A.c.id)
        .where(
            A.c.campaign_id == campaign_id,
            A.c.status.in_(("assigned", "acknowledged")),
            A.c.first_submitted_at.is_(None),
            T.c.revoked_at.is_(None),
        )
        .order_by(A.c.id)
    )
    with get_engine().connect() as conn:
        rows = [(int(a), s) for a, s in conn.execute(query) if int(a) not in taken]
    picked = random.Random(len(taken)).sample(rows, count)
    key = secret_key()
    return [(a, derive_token(key, salt)) for a, salt in picked]


def verify(posted: list[Posted]) -> list[str]:
    """Every POST made exactly one submission with exactly one attachment, whose file is on
    disk with the size and SHA-256 that was sent. Returns the problems found."""
    from sqlalchemy import select

    from config.settings import get_settings
    from models import queries as q
    from models.db import get_engine
    from tasks.link.storage import path_of

    problems = []
    S, F = q.SUBMISSION, q.ATTACHMENT
    by_unit = {p.assignment_id: p for p in posted}
    with get_engine().connect() as conn:
        subs: dict[int, list[Any]] = {a: [] for a in by_unit}
        for chunk in q._chunks(list(by_unit)):
            for row in conn.execute(select(S).where(S.c.assignment_id.in_(chunk))).mappings():
                subs[row["assignment_id"]].append(row)
        files: dict[int, list[Any]] = {}
        sub_ids = [r["id"] for rows in subs.values() for r in rows]
        for chunk in q._chunks(sub_ids):
            for row in conn.execute(select(F).where(F.c.submission_id.in_(chunk))).mappings():
                files.setdefault(row["submission_id"], []).append(row)
        status: dict[int, str] = {}
        for chunk in q._chunks(list(by_unit)):
            A = q.ASSIGNMENT
            status.update(conn.execute(select(A.c.id, A.c.status).where(A.c.id.in_(chunk))).all())
    for a, p in by_unit.items():
        if p.error or p.post_status != 303 or "/receipt/1" not in p.location:
            problems.append(f"unit {a}: {p.error or f'HTTP {p.post_status} {p.location}'}")
            continue
        rows = subs[a]
        if len(rows) != 1 or rows[0]["form_key"] != p.form_key:
            problems.append(f"unit {a}: {len(rows)} submissions")
            continue
        stored = files.get(rows[0]["id"], [])
        if len(stored) != 1:
            problems.append(f"unit {a}: {len(stored)} attachments")
            continue
        f = stored[0]
        path = path_of(f["relpath"])
        if f["size"] != MIB or f["sha256"] != p.sha256:
            problems.append(f"unit {a}: recorded {f['size']} bytes, sha256 {f['sha256'][:12]}")
        elif not path.exists() or path.stat().st_size != MIB:
            problems.append(f"unit {a}: file missing or wrong size at {path}")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != p.sha256:
            problems.append(f"unit {a}: file on disk differs from what was sent")
    if any(s != "submitted" for s in status.values()):
        problems.append("some posted units are not marked submitted")
    leftovers = list(get_settings().attachments_dir.rglob("*.part"))
    if leftovers:
        problems.append(f"{len(leftovers)} partial uploads left on disk")
    return problems


# --- the naive baseline ------------------------------------------------------------------------


def page_build_times(campaign_id: int, repeats: int, mode: str) -> tuple[list[float], bytes]:
    """Seconds to build the overdue page in this process, and the page: the dashboard's own
    route as it serves it ("served"), with its unit counts made afresh every time
    ("recount"), or with its queries replaced by the naive way ("naive": every unit loaded,
    then counted, filtered and sorted in Python). All three render the same template."""
    from starlette.requests import Request

    from config.clock import parse_instant
    from config.settings import get_settings
    from models import queries as q
    from models.queries import dashboard as counted  # where status_counts reads the version
    from tasks.accounts import Coordinator
    from web.dashboard.campaign import campaign_page
    from web.deps import Session

    loaded: dict[str, list[dict[str, Any]]] = {}
    every_unit = q.dashboard_rows  # the real query, before "naive" replaces it below

    def load_all(conn: Any, cid: int) -> list[dict[str, Any]]:
        if "units" not in loaded:  # every unit, in no useful order: the naive way's input
            loaded["units"] = every_unit(conn, cid, parse_instant(NOW, TZ), sort="code", limit=None)
        return loaded["units"]

    def naive_counts(conn: Any, cid: int, now: datetime) -> dict[str, int]:
        units = load_all(conn, cid)
        counts = dict.fromkeys(q.DASHBOARD_FILTERS, 0)
        counts.update(Counter(q.display_status(u["status"], u["late"]) for u in units))
        counts["overdue"] = sum(1 for u in units if not u["settled"] and u["due_at"] < now)
        counts["total"] = len(units)
        return counts

    def naive_rows(conn: Any, cid: int, now: datetime, **kw: Any) -> list[dict[str, Any]]:
        units = [u for u in load_all(conn, cid) if not u["settled"] and u["due_at"] < now]
        units.sort(key=lambda u: (u["due_at"], u["assignment_id"]))
        return [dict(u) for u in units[kw["offset"] : kw["offset"] + kw["limit"]]]

    scope = {"type": "http", "method": "GET", "path": f"/c/{SLUG}", "headers": []}
    session = Session(Coordinator(1, USERNAME), "x" * 32)
    saved = {name: getattr(q, name) for name in ("status_counts", "dashboard_rows")}
    saved_version = counted._data_version
    if mode == "naive":
        q.status_counts, q.dashboard_rows = naive_counts, naive_rows  # type: ignore[assignment]
    elif mode == "recount":
        counted._data_version = lambda conn: object()
    times = []
    body = b""
    os.environ["DUBAN_NOW"] = parse_instant(NOW, TZ).isoformat()
    get_settings.cache_clear()
    try:
        for _ in range(repeats):
            loaded.clear()
            start = time.perf_counter()
            response = campaign_page(
                Request(scope), SLUG, session, status="overdue", sort="due", order="asc", page=1
            )
            times.append(time.perf_counter() - start)
            body = bytes(response.body)
            assert body.count(b"data-code=") == 50
    finally:
        for name, value in saved.items():
            setattr(q, name, value)
        counted._data_version = saved_version
    return times, body


# --- main --------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * p / 100), len(ordered) - 1)]


@dataclass
class Figure:
    """One figure the bench prints: a row of its table, and an entry of `--json`."""

    measure: str
    shown: str  # the value as the table shows it
    value: float | None = None
    unit: str = ""
    target: str = ""
    met: bool | None = None
    workers: int | None = None  # whose server's peak memory goes with it
    dashboard: bool = False  # compared with the naive baseline
    table: bool = True  # False: in `--json` only; the table shows it in a combined row
    json: bool = True  # False: the table's combined row of figures `--json` lists one by one

    def row(self) -> tuple[str, str, str]:
        return self.measure, self.shown, self.target + ("  MISSED" if self.met is False else "")


NAIVE = "naive: every unit loaded and sorted in Python"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[2, 8],
        help="wrk's concurrent connections: each page is measured at each",
    )
    parser.add_argument("--submissions", type=int, default=400, help="POSTs per server")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temp data folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="duban-bench-web-"))
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    key = secrets.token_hex(32)
    os.environ.update(
        DUBAN_DATABASE_URL=url,
        DUBAN_DATA_DIR=str(work / "data"),
        DUBAN_SECRET_KEY=key,
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    os.environ.pop("DUBAN_NOW", None)
    os.environ.pop("DUBAN_SMTP_URL", None)
    db = url.split("://", 1)[0].split("+", 1)[0]
    try:
        print(f"web benchmark: {args.units:,} units, {db}, data in {work}", flush=True)
        seeded = seed(work, url, args.units)
        for what, seconds in seeded.seconds.items():
            print(f"  seed: {what:40} {seconds:6.1f} s", flush=True)
        c = seeded.counts
        print(
            f"  state: {c['overdue']:,} overdue, {c['not_acknowledged']:,} not acknowledged, "
            f"{c['acknowledged']:,} acknowledged, {c['submitted']:,} submitted on time, "
            f"{c['late']:,} late, {c['accepted']:,} accepted, {c['returned']:,} returned; "
            f"{seeded.ledger_rows:,} ledger rows",
            flush=True,
        )
        from config.clock import parse_instant

        script = work / "count.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        env = {**os.environ, "DUBAN_NOW": parse_instant(NOW, TZ).isoformat()}
        figures: list[Figure] = []
        peaks: dict[int, float] = {}
        taken: set[int] = set()
        failures: list[str] = []
        for workers in args.workers:
            server = Server(env, workers, work / f"web-{workers}.log")
            try:
                server.wait_ready()
                cookie = log_in(server.base)
                figures += measure_dashboard(server, cookie, script, args)
                units = open_units(seeded.campaign_id, args.submissions, taken)
                taken.update(a for a, _ in units)
                posted, wall = run_submissions(server.base, units, args.clients, len(taken))
                problems = verify(posted)
                failures += problems
                figures += submission_figures(posted, wall, problems, workers, args.clients)
                rss, supervisor = server.peak_rss_mb()
                peaks[workers] = rss
                figures.append(
                    Figure(
                        f"server peak RSS (VmHWM), {_workers(workers)}",
                        f"{rss:.0f} MB"
                        + (f" (+ supervisor {supervisor:.0f} MB)" if supervisor else ""),
                        rss,
                        "MB",
                        "under 500 MB",
                        rss < 500,
                        workers,
                    )
                )
            finally:
                server.stop()

        served, page = page_build_times(seeded.campaign_id, 30, "served")
        recount, _ = page_build_times(seeded.campaign_id, 10, "recount")
        naive, naive_page = page_build_times(seeded.campaign_id, 5, "naive")
        if naive_page != page:
            failures.append("the naive overdue page differs from the dashboard's")
        base, naive_ms = statistics.median(served), statistics.median(naive) * 1000
        figures += [
            Figure(
                "overdue page built in-process, as served (median)",
                _ms(base),
                base * 1000,
                "ms per page",
                dashboard=True,
            ),
            Figure(
                "overdue page built in-process, units counted afresh (median)",
                _ms(statistics.median(recount)),
                statistics.median(recount) * 1000,
                "ms per page",
            ),
            Figure(
                "naive baseline: all units loaded, sorted in Python (median)",
                f"{naive_ms:.1f} ms ({naive_ms / 1000 / base:.0f}x)",
                naive_ms,
                "ms per page",
            ),
        ]
        rows = [f.row() for f in figures if f.table]
        width = max(len(r[0]) for r in rows)
        print()
        print(
            f"web benchmark: {args.units:,} units, {db}, DUBAN_NOW={NOW} ({TZ}); "
            f"{os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.1f}"
        )
        print(f"  {'measure':{width}}  {'value':60}  target")
        for measure, value, target in rows:
            print(f"  {measure:{width}}  {value:60}  {target}")
        if args.json:
            write_json(args.json, db, args.units, figures, peaks, naive_ms)
            print(f"\nresults written to {args.json}")
        if failures:
            print(f"\n{len(failures)} problem(s):")
            for problem in failures[:20]:
                print(f"  {problem}")
            raise SystemExit(1)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _workers(n: int) -> str:
    return f"{n} worker{'s' if n > 1 else ''}"


def measure_dashboard(
    server: Server, cookie: str, script: Path, args: argparse.Namespace
) -> list[Figure]:
    """wrk against the two pages at each number of connections: latency, throughput, errors,
    and the server's CPU time per request (the cost of a page, whatever the load)."""
    workers = server.workers
    label = _workers(workers)
    pages = [
        ("overdue first page", f"{server.base}/c/{SLUG}?status=overdue"),
        ("default first page", f"{server.base}/c/{SLUG}"),
    ]
    # Several workers share one listening socket, and a kept-alive connection stays with the
    # worker that accepted it: with 8 connections one worker often gets nearly all of them.
    # A new connection per request spreads the load.
    modes = [False, True] if workers > 1 else [False]
    figures = []
    for (name, page_url), close in itertools.product(pages, modes):
        check_page(page_url, cookie, 50)
        for connections in args.connections:
            wrk(page_url, cookie, 3, script, connections, close)  # warm-up
            before = server.cpu_seconds()
            r = wrk(page_url, cookie, args.duration, script, connections, close)
            spent = [t - before.get(pid, 0.0) for pid, t in server.cpu_seconds().items()]
            r["worker_cpu_s"] = [round(t, 2) for t in spent]
            r["load_1min"] = round(os.getloadavg()[0], 1)
            how = "new connection each request" if close else "kept-alive connections"
            print(
                f"  {label}, dashboard {name}, {connections} connections, {how}: {json.dumps(r)}",
                flush=True,
            )
            what = f"dashboard {name}, {connections} connections, {label}" + (
                ", new connection per request" if close else ""
            )
            p50, p95 = r["p50_us"] / 1000, r["p95_us"] / 1000
            cpu_ms = sum(spent) * 1000 / max(r["requests"], 1)
            share = (
                f"; busiest worker {max(spent) / (sum(spent) or 1):.0%} of the CPU"
                if workers > 1
                else ""
            )
            errors = r["non2xx"] + r["socket_errors"]
            ok = p95 < PAGE_TARGET_MS and r["per_s"] >= RATE_TARGET and errors == 0
            figures.append(
                Figure(
                    what,
                    f"p50 {p50:.0f} / p95 {p95:.0f} ms, {r['per_s']:.0f} req/s, "
                    f"CPU {cpu_ms:.1f} ms/req, non-2xx {r['non2xx']}, "
                    f"socket errors {r['socket_errors']}{share}",
                    target=f"p95 < {PAGE_TARGET_MS:.0f} ms, >= {RATE_TARGET:.0f} req/s, 0",
                    met=ok,
                    table=True,
                    json=False,
                )
            )
            figures += [
                Figure(
                    f"{what}: p50",
                    f"{p50:.1f} ms",
                    round(p50, 1),
                    "ms p50",
                    workers=workers,
                    dashboard=True,
                    table=False,
                ),
                Figure(
                    f"{what}: p95",
                    f"{p95:.1f} ms",
                    round(p95, 1),
                    "ms p95",
                    f"p95 under {PAGE_TARGET_MS:.0f} ms",
                    p95 < PAGE_TARGET_MS,
                    workers,
                    dashboard=True,
                    table=False,
                ),
                Figure(
                    f"{what}: requests per second",
                    f"{r['per_s']:.0f} req/s",
                    round(r["per_s"], 1),
                    "req/s",
                    f"at least {RATE_TARGET:.0f} req/s",
                    r["per_s"] >= RATE_TARGET,
                    workers,
                    table=False,
                ),
                Figure(
                    f"{what}: server CPU per request",
                    f"{cpu_ms:.1f} ms ({sum(spent):.1f} s for {r['requests']}{share})",
                    round(cpu_ms, 2),
                    "ms CPU per request",
                    workers=workers,
                    table=False,
                ),
                Figure(
                    f"{what}: non-2xx responses and socket errors",
                    f"{r['non2xx']} non-2xx, {r['socket_errors']} socket errors",
                    errors,
                    "responses",
                    "0",
                    errors == 0,
                    workers,
                    table=False,
                ),
            ]
    return figures


def submission_figures(
    posted: list[Posted], wall: float, problems: list[str], workers: int, clients: int
) -> list[Figure]:
    label = _workers(workers)
    good = sum(1 for p in posted if p.post_status == 303 and not p.error)
    statuses = Counter(p.post_status for p in posted)
    post_times = [p.post_s for p in posted if p.post_s]
    get_times = [p.get_s for p in posted if p.get_s]
    verified = len(posted) - len(problems)
    return [
        Figure(
            f"submissions with a 1 MiB JPEG, {label}",
            f"{good / wall:.1f} per s ({good}/{len(posted)} in {wall:.1f} s, "
            f"{clients} clients, each GET + POST)",
            round(good / wall, 1),
            "submissions per second",
            workers=workers,
        ),
        Figure(
            f"submission POST latency, {label}: p95",
            f"p50 {_ms(statistics.median(post_times))} / p95 {_ms(_pct(post_times, 95))} "
            f"(link page GET p50 {_ms(statistics.median(get_times))})",
            round(_pct(post_times, 95) * 1000, 1),
            "ms p95",
            workers=workers,
        ),
        Figure(
            f"submissions verified in the database and on disk, {label}",
            f"{verified}/{len(posted)} (responses {dict(sorted(statuses.items()))})",
            verified,
            f"of {len(posted)} submissions",
            "all: none lost or failed",
            verified == len(posted) and not problems,
            workers,
        ),
    ]


def write_json(
    path: Path,
    db: str,
    units: int,
    figures: list[Figure],
    peaks: dict[int, float],
    naive_ms: float,
) -> None:
    """The figures as `{"bench": "web", "database", "units", "results": [...]}`: each with
    its target and whether it was met, the naive baseline of the same run beside every
    dashboard figure, and the peak memory of the server that gave it."""
    results = []
    for f in figures:
        if not f.json:
            continue
        value = round(f.value, 2) if isinstance(f.value, float) else f.value
        entry: dict[str, Any] = {"measure": f.measure, "value": value, "unit": f.unit}
        if f.target:
            entry.update(target=f.target, met=f.met)
        if f.dashboard:
            entry["baseline"] = {"name": NAIVE, "value": round(naive_ms, 1), "unit": "ms per page"}
        if f.workers in peaks:
            entry["peak_mb"] = round(peaks[f.workers])
        results.append(entry)
    out = {"bench": "web", "database": db, "units": units, "results": results}
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
