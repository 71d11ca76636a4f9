"""The regular expressions that recognise a notice's parts: document numbers, title lines,
sentences that ask for something to be sent, what stands between a deadline and its 前, and a
unit's duty entry."""

from __future__ import annotations

import re

# A document number: 闽质强省办〔2021〕4号, with the brackets of any width, or one lost;
# some offices write the serial 第031号.
DOC_NUMBER = re.compile(
    r"(?P<org>[\u4e00-\u9fff]{1,12}?)\s*[〔\[［【(（]\s*(?P<year>(?:19|20)\d\d)\s*"
    r"(?P<close>[〕\]］】)）]?)\s*第?\s*(?P<no>\d{1,4})\s*号"
)
# Words before a cited number that are not part of its issuer's abbreviation.
CITING = re.compile(r"^.*?(?:根据|按照|依据|依照|参照|转发|印发|以及|及|和|与|并|的)")
TITLES = (
    re.compile(r"关于.{2,60}?(?:通知|方案|意见|函|决定)$"),
    re.compile(r"^.{2,40}(?:通知|活动方案|实施方案|工作方案)$"),
)
SEND = re.compile(r"报送|上报|报至|送至|送达|报给|提交|反馈|报县|报市|报省")
# What may stand between a deadline's day and its 前: 「(星期四)」, 「下午5:00」, 「下班」.
BEFORE = re.compile(
    r"\s*(?:[(（]\s*(?:星期|周)[一二三四五六日天]\s*[)）])?\s*"
    r"(?:上午|中午|下午|晚上)?\s*(?:\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*[时点](?:\s*\d{1,2}\s*分)?)?"
    r"\s*(?:下班)?\s*(?:之?前|以前|为止)"
)


# A duty entry: 「(二)工信部门:…」 as an item, or 「工信部门:…」 as a table row.
DUTY_ENTRY = re.compile(r"^([\u4e00-\u9fff、]{2,30}?)\s*[:：]\s*(.+)$")
# An item that starts with the units it gives work to and a verb, no colon: 「(六)卫生健康部门
# 组织…」, 「(九)团县委和县妇联以“…”为主题…」.
_BODY = r"[\u4e00-\u9fff]{2,20}?(?:部门|局|委|办|厅|院|会|中心|社|台|队|行|协|联|团)"
DUTY_LEAD = re.compile(
    rf"^({_BODY}(?:(?:、|和|及|与){_BODY})*)(?=组织|开展|负责|联合|以|围绕|要|将|牵头|做好|举办|"
    r"加强|推动|会同|结合|督促|指导|深入|持续|积极|认真|在|对|面向|利用|发挥)(.+)$"
)
# What starts a task, not a unit's name: 「(一)组织举办…」 is no unit called 组织举办.
VERB_START = re.compile(
    r"^(?:组织|开展|举办|加强|推动|深入|积极|认真|做好|建立|完善|持续|围绕|以|申报|参加|参赛|获奖|"
    r"推荐|报名|承办|主办|协办|颁布|发布|印发|发文)"
)
