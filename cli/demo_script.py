"""The script of `duban demo`: the 大田县 2021 campaign, and what each of its units and the
coordinator do, in their own words and at their own times."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from config.clock import parse_instant
from flows.rehearsal import Step, activity_picture

if TYPE_CHECKING:
    from config.calendars import WorkCalendar

TZ = "Asia/Shanghai"
CAMPAIGN_FILE = Path(__file__).resolve().parent.parent / "config" / "examples" / "datian-2021.yaml"
SLUG = "datian-quality-month-2021"
COORDINATOR = "zlb"
FIRST_DAY, LAST_DAY = date(2021, 9, 13), date(2021, 10, 11)
LAUNCHED = "2021-09-13T09:00"
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


def script(calendar: WorkCalendar) -> list[Step]:
    """Every step after the launch: a monitor pass each working morning, and what the units
    and the coordinator do (see `SUBMISSIONS`)."""

    def at(text: str) -> datetime:
        return parse_instant(text, TZ)

    steps = []
    day = FIRST_DAY + timedelta(days=1)
    while day <= LAST_DAY:
        if calendar.is_working_day(day):
            steps.append(Step(at(f"{day}T{MONITOR_AT}"), "monitor"))
        day += timedelta(days=1)
    for i, (code, when, text, picture) in enumerate(SUBMISSIONS):
        # Most sign on the first days; the late ones and the one that never delivers
        # do not (the reminders say so).
        if code in SIGNS_LATE:
            steps.append(Step(at(SIGNS_LATE[code]), "sign", code))
        elif code not in NEVER_SIGNS:
            signed = f"2021-09-{13 + i % 3}T{10 + i % 6}:{(i * 7) % 60:02d}"
            steps.append(Step(at(signed), "sign", code))
        steps.append(Step(at(when), "submit", code, text, _pictures(picture, i)))
        if code != RETURN[0]:
            steps.append(Step(at(when) + timedelta(hours=3), "accept", code))  # read the same day
    code, when, comment = RETURN
    steps.append(Step(at(when), "send_back", code, comment))
    code, when, text, picture = REVISION
    steps.append(Step(at(when), "submit", code, text, _pictures(picture, len(SUBMISSIONS))))
    steps.append(Step(at(when) + timedelta(hours=5), "accept", code))
    return steps


def _pictures(picture: bool, seed: int) -> tuple[tuple[str, bytes], ...]:
    return (("活动现场.jpg", activity_picture(seed)),) if picture else ()
