"""Chat bots that refuse a message: what Apprise 1.x reports against what duban now records.

    python -m bench.bots [--messages N]

One loopback receiver answers as DingTalk, WeCom and Feishu do: HTTP 200 with the verdict in
the body. Each kind gets N messages that are accepted and N refused (keyword, bad token,
signature, rate limit). Apprise's own plugins are pointed at the receiver (their hosts are
fixed, so their URL templates are patched here) and sent through `send_apprise`, the path
every bot message took before: its `ok` was recorded as sent. duban's client is pointed at
it with `?base=`. Printed: per kind, how many refused messages each recorded as sent.
"""

from __future__ import annotations

import argparse
from typing import Any

REFUSING = {
    "dingtalk": ("keyword", "token", "limit"),
    "wecombot": ("token", "limit"),
    "feishu": ("keyword", "sign", "ip", "token", "limit"),
}


def _apprise_says_sent(url: str) -> bool:
    """What the product recorded before: `send_apprise` (unchanged) carried these URLs."""
    from tasks.messages.deliver import send_apprise

    return send_apprise(url, "标题", "正文").ok


def _patch_apprise_hosts(base: str) -> None:
    from apprise.plugins.dingtalk import NotifyDingTalk
    from apprise.plugins.feishu import NotifyFeishu
    from apprise.plugins.wecombot import NotifyWeComBot

    NotifyDingTalk.notify_url = base + "/robot/send?access_token={token}"
    NotifyWeComBot.notify_url = base + "/cgi-bin/webhook/send?key={key}"
    NotifyFeishu.notify_url = base + "/open-apis/bot/v2/hook/{token}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args(argv)

    from tasks.messages.bots import send_bot
    from tests.receivers import BotReceiver

    receiver = BotReceiver()
    receiver.limit_after = 0
    receiver.start()
    _patch_apprise_hosts(receiver.base)
    results: dict[str, Any] = {}
    try:
        for kind, words in REFUSING.items():
            row = {"accepted": 0, "refused": 0, "apprise_sent": 0, "duban_sent": 0}
            row.update(apprise_refused_as_sent=0, duban_refused_as_sent=0)
            for n in range(args.messages):
                for word in ("ok", *words):
                    token = f"{word}{kind[:1]}{n}"
                    refused = word != "ok"
                    row["refused" if refused else "accepted"] += 1
                    by_apprise = _apprise_says_sent(f"{kind}://{token}/")
                    by_duban = send_bot(receiver.url(kind, token), "标题", "正文").ok
                    row["apprise_sent"] += by_apprise
                    row["duban_sent"] += by_duban
                    row["apprise_refused_as_sent"] += refused and by_apprise
                    row["duban_refused_as_sent"] += refused and by_duban
            results[kind] = row
    finally:
        receiver.stop()
    print(f"{'kind':10} {'accepted':>8} {'refused':>8} {'refused recorded as sent':>26}")
    print(f"{'':10} {'':>8} {'':>8} {'Apprise 1.x':>13} {'duban':>12}")
    for kind, row in results.items():
        print(
            f"{kind:10} {row['accepted']:>8} {row['refused']:>8} "
            f"{row['apprise_refused_as_sent']:>13} {row['duban_refused_as_sent']:>12}"
        )
    return results


if __name__ == "__main__":
    main()
