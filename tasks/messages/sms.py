"""Sending one SMS through Aliyun's Dysmsapi (SendSms) with Alibaba Cloud's own SDK, and
reading its answer: only `Code: OK` counts as sent.

The SDK signs each request (ACS3-HMAC-SHA256) with the AccessKey from the settings and posts
to `DUBAN_ALIYUN_SMS_ENDPOINT`. An answer other than OK is recorded with Aliyun's code and
message: rate limits and server trouble are retried with the usual backoff; a bad signature,
template, number or key is marked misconfigured, since sending it again cannot help.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from config.campaign.sms import Fill, mobile_of, template_key
from config.clock import days_overdue
from config.settings import Settings, get_settings
from models import queries as q
from models.kinds import rung_name
from tasks.messages.deliver import Delivery, reason_from_log
from tasks.messages.labels import wording_of
from tasks.messages.render import format_deadline

if TYPE_CHECKING:
    from alibabacloud_dysmsapi20170525.client import Client

# Aliyun's codes that no retry will cure: the file's sign name or template, the number, the
# AccessKey or the account must be fixed first (Aliyun's list of SendSms error codes).
MISCONFIGURED = frozenset(
    {
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.SIGN_STATE_ILLEGAL",
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_JSON_PARAM",
        "isv.INVALID_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.SMS_CONTENT_ILLEGAL",
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
        "isv.DENY_IP_RANGE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.OUT_OF_SERVICE",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isp.RAM_PERMISSION_DENY",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "Forbidden.RAM",
    }
)
# Everything else (isv.BUSINESS_LIMIT_CONTROL, isv.DAY_LIMIT_CONTROL, isv.MONTH_LIMIT_CONTROL,
# Throttling.*, isp.SYSTEM_ERROR, a timeout) is a plain failure: the backoff sends it later.

CONNECT_TIMEOUT_MS = 5_000
READ_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Sms:
    """One SMS: the number, the approved signature and template, the variables filled."""

    number: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    hidden: tuple[str, ...] = ()  # never in a recorded error: the unit's link token


def sms_for(item: q.Outgoing, link: str, now: datetime) -> Sms | Delivery:
    """The SMS for a ledger row to an `sms:` number, or the failure saying why there is none
    (the launch refuses such files; a spec stored before, or a new contact, can still lack)."""
    spec = item.campaign_spec
    number = mobile_of(item.channel)
    if number is None:
        return Delivery(ok=False, misconfigured=True, error="not a mainland mobile number")
    if spec.sms is None:
        return Delivery(ok=False, misconfigured=True, error="the campaign has no `sms:` section")
    key = template_key(rung_name(item.kind), wording_of(spec, item.kind), item.recipient)
    template = spec.sms.templates.get(key)
    if template is None:
        return Delivery(ok=False, misconfigured=True, error=f"no SMS template for `{key}`")
    values: dict[Fill, str] = {
        "unit": item.department_name,
        "deadline": format_deadline(item.due_at, spec.timezone),
        "days_overdue": str(days_overdue(item.due_at, now, spec.timezone)),
        "link": link,
        "link_token": link.rsplit("/", 1)[-1],
    }
    params = {var: values[fill] for var, fill in template.params.items()}
    return Sms(number, spec.sms.sign_name, template.code, params, (values["link_token"],))


def deliver_sms(item: q.Outgoing, link: str, now: datetime) -> Delivery:
    """A ledger row to an `sms:` number: its template filled and sent."""
    sms = sms_for(item, link, now)
    return sms if isinstance(sms, Delivery) else send_sms(sms)


def send_sms(sms: Sms, settings: Settings | None = None) -> Delivery:
    """One SendSms call; Delivery(ok=True) only when Aliyun answers `Code: OK`."""
    settings = settings or get_settings()
    key_id, secret = settings.aliyun_sms_access_key_id, settings.aliyun_sms_access_key_secret
    if not key_id or not secret:
        error = "DUBAN_ALIYUN_SMS_ACCESS_KEY_ID and _SECRET must be set to send SMS"
        return Delivery(ok=False, misconfigured=True, error=error)
    from alibabacloud_dysmsapi20170525 import models
    from alibabacloud_tea_util.models import RuntimeOptions

    request = models.SendSmsRequest(
        phone_numbers=sms.number,
        sign_name=sms.sign_name,
        template_code=sms.template_code,
        template_param=json.dumps(sms.params, ensure_ascii=False, separators=(",", ":")),
    )
    # No retry inside the SDK: a retry after a lost answer could send the SMS twice; the
    # ledger's backoff retries, and a killed sender leaves the row unconfirmed.
    runtime = RuntimeOptions(
        autoretry=False, connect_timeout=CONNECT_TIMEOUT_MS, read_timeout=READ_TIMEOUT_MS
    )
    try:
        answer = _client(settings).send_sms_with_options(request, runtime).body
    except Exception as exc:  # Aliyun's error answers (HTTP 4xx/5xx) and network failures
        code = getattr(exc, "code", None)
        message = str(getattr(exc, "message", None) or exc)
        if not code:  # a network failure quotes the request's URL, and with it the link
            code, message = type(exc).__name__, reason_from_log([message])
        return _failed(str(code), message, (key_id, secret, *sms.hidden))
    if answer is not None and answer.code == "OK":
        return Delivery(ok=True)
    code = (answer.code if answer else None) or "no answer"
    return _failed(code, (answer.message if answer else None) or "", (key_id, secret, *sms.hidden))


def _failed(code: str, message: str, hidden: tuple[str, ...]) -> Delivery:
    text = f"{code}: {message}"
    for secret in hidden:
        text = text.replace(secret, "***")
    return Delivery(ok=False, misconfigured=code in MISCONFIGURED, error=text[:500])


def _client(settings: Settings) -> Client:
    """A client per send: the SDK's client keeps per-request state, and a send is a network
    round trip anyway."""
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi.models import Config

    endpoint = settings.aliyun_sms_endpoint
    protocol = "https"
    if endpoint.startswith(("http://", "https://")):
        protocol, endpoint = endpoint.split("://", 1)
    config = Config(
        access_key_id=settings.aliyun_sms_access_key_id,
        access_key_secret=settings.aliyun_sms_access_key_secret,
        endpoint=endpoint.rstrip("/"),
        protocol=protocol,
    )
    return Client(config)
