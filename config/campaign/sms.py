"""SMS through Aliyun (Dysmsapi): the campaign's `sms:` section, the `sms:` channel entries,
and the launch check that every message which will go by SMS has an approved template.

In China an SMS goes out only under an approved signature (`sign_name`) and an approved
template (`SMS_…`) whose variables the sender fills. So the file names, per message, the
template and which of duban's values goes into each of its variables:

    sms:
      sign_name: 大田县市场监督管理局
      templates:
        notice:     {code: SMS_100, params: {unit: unit, time: deadline, url: link}}
        escalation: {code: SMS_104, params: {unit: unit, days: days_overdue, url: link}}

A template key names a message: `notice` (the notice, also when resent or sent to a new
contact), the ladder's wordings `reminder`, `urgent`, `overdue`, `escalation` (to the unit
or its head), `leaders` (the 情况报告 to the leadership group), and the coordinator's actions
`returned` and `extended`. The access key lives in the settings, never in the file.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

SMS_PREFIX = "sms:"
# A mainland mobile number, with or without +86: Aliyun's domestic SMS takes no other.
MOBILE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")

TemplateKey = Literal[
    "notice", "reminder", "urgent", "overdue", "escalation", "leaders", "returned", "extended"
]
# What duban can put into a template's variable. Aliyun takes a link only with its site in
# the template's fixed text (`https://duban.example.gov.cn/d/${code}`): `link_token` is the
# part after `/d/`; `link` is the whole link, for a template approved with a link variable.
Fill = Literal["unit", "deadline", "days_overdue", "link", "link_token"]
# Aliyun's rule for a variable's name: a letter first, then letters, digits or `_`, 25 at most.
VarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,24}$")]

# The messages that are not rungs of the ladder, by their ledger name (`models.kinds`: the
# config layer cannot import it; tests/test_kinds.py keeps the two in step) → their template.
ACTION_TEMPLATES: dict[str, TemplateKey] = {
    "notice": "notice",
    "resent": "notice",
    "reassigned": "notice",
    "returned": "returned",
    "extended": "extended",
}


class SmsTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, StringConstraints(pattern=r"^SMS_\d{1,20}$")]
    # Every variable of the approved template: Aliyun refuses a send that leaves one out.
    params: dict[VarName, Fill] = Field(min_length=1)


class SmsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sign_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=12)]
    templates: dict[TemplateKey, SmsTemplate] = Field(min_length=1)


def mobile_of(entry: str) -> str | None:
    """The 11-digit number of an `sms:` entry, or None if `entry` is no SMS channel."""
    if not entry.startswith(SMS_PREFIX):
        return None
    match = MOBILE_RE.match(entry[len(SMS_PREFIX) :].strip().replace(" ", "").replace("-", ""))
    return match.group(1) if match else None


def is_sms(entry: str) -> bool:
    return entry.startswith(SMS_PREFIX)


def mobile_problem(entry: str) -> str | None:
    if mobile_of(entry) is None:
        return f"{entry!r} is not a mainland mobile number (sms:13800000000)"
    return None


def template_key(message: str, wording: str, recipient: str) -> TemplateKey:
    """The template of a message: an action by its name, a rung by whom it goes to and its
    wording. `message` is the ledger name of the message (`models.kinds.rung_name`)."""
    if message in ACTION_TEMPLATES:
        return ACTION_TEMPLATES[message]
    if recipient == "leaders":
        return "leaders"
    return wording  # type: ignore[return-value]  # a Wording is a TemplateKey
