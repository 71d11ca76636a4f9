"""A bot's webhook pasted as its platform's console shows it is read as the bot's address."""

from __future__ import annotations

import pytest

from config.campaign.channels import canonical, channel_kind

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("pasted", "read"),
    [
        ("https://oapi.dingtalk.com/robot/send?access_token=ab12", "dingtalk://ab12"),
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1", "wecombot://k-1"),
        ("https://open.feishu.cn/open-apis/bot/v2/hook/f-2", "feishu://f-2"),
        ("https://open.larksuite.com/open-apis/bot/v2/hook/l-3", "lark://l-3"),
        # 政务钉钉 on its own host: the host is kept as the address's base.
        (
            "https://oapi.zwding.gov.cn/robot/send?access_token=z9",
            "dingtalk://z9/?base=https://oapi.zwding.gov.cn",
        ),
        # Not a bot's webhook: left as it is.
        ("json://hooks.county.test/x", "json://hooks.county.test/x"),
        (
            "https://oapi.dingtalk.com/robot/send?access_token=",
            "https://oapi.dingtalk.com/robot/send?access_token=",
        ),
    ],
)
def test_a_pasted_webhook_is_the_bots_address(pasted: str, read: str) -> None:
    assert canonical(pasted) == read
    if read != pasted:
        # Capped and verified as the bot it is, not as an unknown https webhook.
        assert channel_kind(pasted) == read.split("://")[0]
