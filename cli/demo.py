"""`duban demo`: the 大田县 2021 "Quality Month" campaign rehearsed in simulated time.

Everything runs through the real code on the embedded default (SQLite in a folder of its own,
mail to the outbox): the launch flow, departments opening their links to sign and submit on
different days, the coordinator accepting and returning, a monitor pass every working
morning on the real 2021 calendar (the Mid-Autumn and National Day holidays, the make-up
Saturday of 9 October), and the final report the monitor makes at its report time.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.calendars import WorkCalendar

MARKER = ".duban-demo"  # a folder with it is the demo's own, safe to wipe for a fresh run
TZ = "Asia/Shanghai"
CAMPAIGN_FILE = Path(__file__).resolve().parent.parent / "config" / "examples" / "datian-2021.yaml"
SLUG = "datian-quality-month-2021"
COORDINATOR = "zlb"
FIRST_DAY, LAST_DAY = date(2021, 9, 13), date(2021, 10, 11)
MONITOR_AT = "08:30"  # each working morning, when office hours open

# What each unit does, in its own words: (code, when it submits, summary, with a picture).
# A unit not listed never delivers; `LATE` ones submit after the deadline.
SUBMISSIONS: list[tuple[str, str, str, bool]] = [
    (
        "scjgj",
        "2021-09-17T10:20",
        "县市场监管局牵头组织“质量月”活动：9月13日在县城中心广场开展质量宣传咨询日活动，"
        "设置咨询台6个，发放宣传资料2300余份；组织开展电动自行车、儿童用品等重点产品质量"
        "监督抽查，抽检样品46批次；走访帮扶企业12家，解决质量技术问题8个。",
        True,
    ),
    (
        "jyj",
        "2021-09-22T15:00",
        "县教育局在全县中小学开展“质量第一”主题班会，覆盖学生1.2万人；组织食堂食品安全和"
        "校服质量专项检查，检查学校37所，发现问题5个，均已整改到位。",
        False,
    ),
    (
        "wjj",
        "2021-09-24T11:00",
        "县卫健局开展医疗服务质量提升行动，组织二级以上医院质量安全自查，开展院感防控和合理"
        "用药专项督查2轮；举办基层医务人员质量管理培训班1期，培训120人次。",
        True,
    ),
    (
        "zjj",
        "2021-09-24T16:30",
        "县住建局开展建设工程质量安全大检查，检查在建项目21个，下发整改通知书9份；组织"
        "“工程质量观摩月”活动，观摩优质工程2个。",
        False,
    ),
    (
        "gxj",
        "2021-09-28T10:00",
        "县工信局组织企业开展了质量月活动，效果良好。",
        False,
    ),
    (
        "fgj",
        "2021-09-28T16:00",
        "县发改局将质量提升纳入全县经济社会发展重点工作，推动3个重点项目开展质量效益评估；"
        "配合开展价格和服务质量监督检查2次。",
        False,
    ),
    (
        "kjj",
        "2021-09-29T09:40",
        "县科技局组织科技型中小企业开展质量技术攻关，推荐申报省级科技项目2项；举办知识产权"
        "与标准化讲座1场，参加企业30家。",
        False,
    ),
    (
        "gaj",
        "2021-09-29T15:10",
        "县公安局会同市场监管部门开展打击制售假冒伪劣商品专项行动，立案侦办案件3起，抓获"
        "犯罪嫌疑人5名，涉案金额约46万元。",
        True,
    ),
    (
        "sthjj",
        "2021-09-29T17:00",
        "县生态环境局开展重点排污单位环境监测质量检查，检查企业14家；组织环境监测数据质量"
        "专项培训1期。",
        False,
    ),
    (
        "jtj",
        "2021-09-30T10:00",
        "县交通局开展公路工程质量专项检查，检查在建公路项目6个；推进“四好农村路”建设，"
        "完成农村公路路面改造38公里。",
        False,
    ),
    (
        "wlj",
        "2021-09-30T11:30",
        "县文化和旅游局开展旅游服务质量提升活动，检查A级景区4家、旅行社3家、星级宾馆2家，"
        "开展导游服务技能培训1期。",
        True,
    ),
    (
        "zrzyj",
        "2021-09-30T14:00",
        "县自然资源局开展测绘成果质量检查，抽查项目5个；规范不动产登记服务，办理时限压缩至"
        "3个工作日以内。",
        False,
    ),
    (
        "slj",
        "2021-09-30T15:20",
        "县水利局开展水利工程质量安全检查，检查在建项目9个，整改问题17个；开展农村饮水工程"
        "水质抽检42份。",
        False,
    ),
    (
        "gzw",
        "2021-09-30T16:40",
        "县国资委督促县属国有企业建立质量管理制度，组织8家企业开展质量管理自查，"
        "推动2家企业导入卓越绩效管理模式。",
        False,
    ),
    (
        "rhdt",
        "2021-09-30T17:10",
        "人行大田县支行组织辖内金融机构开展金融服务质量提升活动，开展反假货币宣传进企业、"
        "进社区12场，发放宣传资料3000余份。",
        False,
    ),
    (
        "nyncj",
        "2021-10-08T14:00",
        "县农业农村局开展农产品质量安全专项整治，检测农产品样品320批次，合格率99.7%；"
        "开展农资打假专项行动，检查农资经营门店56家。",
        False,
    ),
    (
        "swj",
        "2021-10-09T10:30",
        "县商务局开展“诚信经营、放心消费”活动，组织商贸企业签订质量诚信承诺书25份；"
        "开展成品油市场质量检查1次。",
        False,
    ),
]
RETURN = (
    "gxj",
    "2021-09-28T15:00",
    "请补充活动的具体内容和数据（开展活动场次、参与企业数量、取得的成效），并附活动图片。",
)
REVISION = (
    "gxj",
    "2021-09-29T11:00",
    "县工信局组织规模以上工业企业开展质量月活动：举办质量管理体系和卓越绩效培训2期，"
    "参训企业45家、120人次；推动16家企业开展质量对标提升；组织3家企业申报省级技术中心。",
    True,
)
NEVER_SIGNS = ("scjg-sydw",)
SIGNS_LATE = {"swj": "2021-09-29T09:00", "nyncj": "2021-09-30T09:15"}


@dataclass(frozen=True)
class Event:
    at: datetime
    order: int  # the monitor runs before what a department does in the same minute
    what: str
    code: str = ""


def run_demo(folder: Path) -> int:
    try:
        prepare(folder)
    except OSError as exc:
        print(f"duban demo: {exc}", file=sys.stderr)
        return 2
    return Rehearsal(folder).run()


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
    for name in ("DUBAN_DATABASE_URL", "DUBAN_SMTP_URL", "DUBAN_NOW", "DUBAN_CALENDAR_DIR"):
        os.environ.pop(name, None)  # the embedded default; mail to the outbox, never sent
    os.environ["DUBAN_DATA_DIR"] = str(folder.resolve())
    # Its flow runs go to a local ephemeral Prefect server, never to a production one that the
    # shell or the active Prefect profile points at.
    os.environ.pop("PREFECT_API_URL", None)
    os.environ["PREFECT_PROFILE"] = "ephemeral"
    # Its own Prefect server starts with the first flow; a busy machine needs longer than
    # Prefect's default wait for it.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from config.settings import get_settings
    from models.db import dispose_engines

    get_settings.cache_clear()
    dispose_engines()


class Rehearsal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.links: dict[str, str] = {}  # code → the token from its notice
        self.names: dict[str, str] = {}
        self.day_lines: list[str] = []
        self.day: date | None = None
        self.report_files: list[Path] = []

    def run(self) -> int:
        from config.calendars import WorkCalendar

        calendar = WorkCalendar()
        print(f"duban demo: 大田县2021年“质量月”活动, rehearsed from {FIRST_DAY} to {LAST_DAY}")
        print(f"  data folder {self.folder} (SQLite database, outbox, reports)\n")
        for event in sorted(self.events(calendar), key=lambda e: (e.at, e.order)):
            self.show_day(event.at)
            getattr(self, event.what)(event)
        self.show_day(None)
        self.closing()
        return 0

    def events(self, calendar: WorkCalendar) -> list[Event]:
        from config.clock import parse_instant

        events = [Event(parse_instant("2021-09-13T09:00", TZ), 0, "launch")]
        day = FIRST_DAY + timedelta(days=1)
        while day <= LAST_DAY:
            if calendar.is_working_day(day):
                events.append(Event(parse_instant(f"{day}T{MONITOR_AT}", TZ), 0, "monitor"))
            day += timedelta(days=1)
        for i, (code, when, _, _) in enumerate(SUBMISSIONS):
            # Most sign on the first days; the late ones and the one that never delivers
            # do not (the reminders say so).
            if code in SIGNS_LATE:
                events.append(Event(parse_instant(SIGNS_LATE[code], TZ), 1, "sign", code))
            elif code not in NEVER_SIGNS:
                signed = f"2021-09-{13 + i % 3}T{10 + i % 6}:{(i * 7) % 60:02d}"
                events.append(Event(parse_instant(signed, TZ), 1, "sign", code))
            events.append(Event(parse_instant(when, TZ), 1, "submit", code))
            if code != RETURN[0]:
                accepted = parse_instant(when, TZ) + timedelta(hours=3)  # read the same day
                events.append(Event(accepted, 2, "accept", code))
        events.append(Event(parse_instant(RETURN[1], TZ), 2, "send_back", RETURN[0]))
        events.append(Event(parse_instant(REVISION[1], TZ), 1, "revise", REVISION[0]))
        accepted = parse_instant(REVISION[1], TZ) + timedelta(hours=5)
        events.append(Event(accepted, 2, "accept", REVISION[0]))
        return events

    # --- what happens --------------------------------------------------------------------

    def launch(self, event: Event) -> None:
        from config.clock import local
        from flows.launch import launch_flow

        summary = launch_flow(path=str(CAMPAIGN_FILE), now=event.at)
        for copy in summary.delivery.outbox:
            self.links[copy.department_code] = copy.link.rsplit("/", 1)[-1]
            self.names[copy.department_code] = copy.department_name
        self.say(
            f"launch: {summary.departments} departments, {summary.delivery.sent} notices with "
            f"personal links (deadline {local(summary.due_at, TZ):%Y-%m-%d %H:%M})"
        )

    def sign(self, event: Event) -> None:
        from tasks.link.submission import acknowledge, find_unit

        acknowledge(find_unit(self.links[event.code]), event.at)
        opened = "open their links and sign for the notice (签收): "
        if self.day_lines and self.day_lines[-1].startswith(opened):
            self.day_lines[-1] += "、" + self.names[event.code]
        else:
            self.say(opened + self.names[event.code])

    def submit(self, event: Event, text: str | None = None, picture: bool | None = None) -> None:
        from tasks.link.policy import Limits
        from tasks.link.submission import Upload, find_unit, submit

        entry = next(s for s in SUBMISSIONS if s[0] == event.code)
        text = text if text is not None else entry[2]
        picture = picture if picture is not None else entry[3]
        files = []
        if picture:
            data = activity_picture(len(self.day_lines) + len(event.code))
            files = [Upload("活动现场.jpg", data[:2048], len(data), io.BytesIO(data))]
        unit = find_unit(self.links[event.code])
        key = f"demo-{event.code}-{event.at:%j%H%M}"
        receipt = submit(unit, key, text, files, Limits.from_settings(), event.at)
        late = "late, " if receipt.late else ""
        pictures = ", 1 picture" if picture else ""
        self.say(
            f"{self.names[event.code]} submits its summary "
            f"(version {receipt.version}, {late}{len(text)} characters{pictures})"
        )

    def revise(self, event: Event) -> None:
        self.submit(event, REVISION[2], REVISION[3])

    def accept(self, event: Event) -> None:
        from tasks import review

        unit = review.find_unit(SLUG, event.code)
        assert unit is not None
        version = len(_versions(unit["assignment_id"]))
        review.accept(unit, version, COORDINATOR, event.at)
        self.say(f"coordinator accepts {self.names[event.code]} (version {version})")

    def send_back(self, event: Event) -> None:
        from tasks import review

        unit = review.find_unit(SLUG, event.code)
        assert unit is not None
        ids = review.return_for_revision(unit, 1, RETURN[2], COORDINATOR, event.at)
        sent = review.send_now(ids, event.at).sent
        self.say(
            f"coordinator returns {self.names[event.code]} for revision: “{RETURN[2][:24]}…” "
            f"({sent} message)"
        )

    def monitor(self, event: Event) -> None:
        from flows.monitor import monitor_flow

        summary = monitor_flow(now=event.at)
        sent = _sent_at(event.at)
        if sent:
            self.say(f"monitor: {sent}")
        for report in summary.reports:
            self.report_files = report.files
            where = "outbox" if report.sent and report.sent.outbox else "coordinator"
            self.say(
                f"monitor: the report time has come; final report made and sent to the "
                f"coordinator ({where})"
            )

    # --- printing --------------------------------------------------------------------------

    def say(self, line: str) -> None:
        self.day_lines.append(line)

    def show_day(self, at: datetime | None) -> None:
        from config.clock import local

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

        settings = get_settings()
        outbox = settings.outbox_dir / SLUG
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


def _versions(assignment_id: int) -> list[dict[str, object]]:
    from tasks.link.submission import history

    return history(assignment_id)


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


def activity_picture(seed: int) -> bytes:
    """A photo-sized JPEG standing in for a picture of the activity."""
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
