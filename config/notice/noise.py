"""What a web page adds to the notice it carries, taken off before anything is read.

Notices copied from portals bring the portal with them: breadcrumbs, 索引号/发布日期/浏览次数
fields, share buttons, a site name after the title, spam injected into hacked pages, pinyin
readings printed after each character by "pinyin-annotated" mirrors (質(zhì)), URL-encoded junk
and lines of mojibake. Each is dropped whole, and counted, so the draft can say what went.

The portal's own fields are kept apart rather than lost: its 文号 field is often the only
place a page gives the notice's number, and 发布机构 names who issued it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A pinyin reading after a character: 質(zhì), 关(guān). One tone-marked vowel at least, so
# an ASCII word in brackets, (PDF) or (试行), is never taken.
_PINYIN = re.compile(r"(?<=[\u4e00-\u9fff])\(\s*[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹ][a-zü]*\s*\)")
# Fields and furniture of a portal page, at the start of a line.
_PORTAL = re.compile(
    r"^[•·\-*|>»\s]*(?:当前位置|您的位置|您当前的位置|位置\s*[:：]|首\s*页\s*[>»]|网站首页|索引号|"
    r"主题分类|公开方式|公开范围|发布机构|发文机构|发布机关|发文机关|成文日期|发文日期|发布日期|"
    r"发布时间|有效性|内容概述|信息来源|来源\s*[:：]|(?:日期|时间)\s*[:：]\s*\d{4}-\d|浏览次数|浏览量|访问量|阅读\s*[:：]?\s*$|"
    r"【?\s*字体|字号|分享到|扫一扫|打印本页|关闭窗口|返回顶部|相关附件|关联稿件|责任编辑|"
    r"上一篇|下一篇|上一条|下一条|用户登录|全文预览|下载本文档|版权说明|版权所有|Copyright|"
    r"网站无障碍|站内搜索|欢迎来到|浏览记录|相关推荐|推荐度)"
)
# The portal fields worth keeping: the notice's number and who issued it.
_FIELD = re.compile(
    r"(?P<name>发文字号|发文文号|文\s*号|发布机构|发文机构|发布机关|发文机关|来源)\s*[】\]]?\s*[:：]?\s*(?P<value>[^\s|【]*)"
)
# Words no notice contains and spam injected into government pages always does.
_SPAM = re.compile(
    r"无码|久久|精品国产|在线观看|视频在线|一区二区|亚洲精品|AV|彩票|投注|博彩|体育官网|娱乐平台|"
    r"网页版登录|官网平台|黄色|毛片|伊人|凯发|博鱼|亚博|365bet|365体育"
)
# A page's name after the title: 「…的通知_某某网」, 「…的通知-某某旗舰」.
_SITE_SUFFIX = re.compile(r"(?<=[通知方案函见》”\"])\s*(?:发布)?\s*[-_|–—]\s*[^\s,，。、]{2,12}$")
# URL-encoded junk and long runs of letters and digits that no notice writes.
_JUNK = re.compile(
    r"(?:[A-Za-z0-9+]*%[0-9A-Fa-f]{2}){3,}[A-Za-z0-9%+]*|(?<![\w@./:])[A-Za-z0-9]{24,}"
)


@dataclass
class Cleaned:
    text: str
    dropped: list[str] = field(default_factory=list)  # what was taken off, for the draft
    fields: dict[str, str] = field(default_factory=dict)  # the portal's 文号, 发布机构


def strip_noise(text: str) -> Cleaned:
    text, readings = _PINYIN.subn("", text)
    fields = _portal_fields(text)
    kept: list[str] = []
    portal = spam = junk = garbled = 0
    for line in text.split("\n"):
        if _PORTAL.match(line):
            portal += 1
            continue
        if len(_SPAM.findall(line)) >= 2 or (_SPAM.search(line) and len(line) <= 40):
            spam += 1
            continue
        if _garbled(line):
            garbled += 1
            continue
        line, n = _JUNK.subn("", line)
        junk += n
        line = line.strip(" |")  # a table's cell borders, copied as text
        if not line and kept and not kept[-1]:
            continue
        kept.append(_SITE_SUFFIX.sub("", line) if len(kept) < 6 and "关于" in line else line)
    dropped = [
        f"{n} {what}"
        for n, what in (
            (readings, "pinyin reading(s) after characters"),
            (portal, "line(s) of the web page (breadcrumbs, fields, buttons)"),
            (spam, "line(s) of injected spam"),
            (junk, "run(s) of ASCII junk"),
            (garbled, "line(s) of mojibake"),
        )
        if n
    ]
    return Cleaned("\n".join(kept), dropped, fields)


def _portal_fields(text: str) -> dict[str, str]:
    """文号 and issuer from the page's fields; a value may stand on the next line."""
    lines = [line.strip(" •·") for line in text.split("\n")]
    found: dict[str, str] = {}
    for i, line in enumerate(lines[:60]):
        for m in _FIELD.finditer(line):
            value = m["value"] or next((v for v in lines[i + 1 : i + 4] if v), "")
            name = "number" if "号" in m["name"] else "source" if "来源" in m["name"] else "issuer"
            if value and name not in found and not _FIELD.match(value):
                found[name] = value
    return found


def _garbled(line: str) -> bool:
    """Mojibake: mostly question marks, replacement characters or unassigned symbols."""
    if len(line) < 8:
        return False
    bad = sum(1 for ch in line if ch in "?\ufffd" or "\ue000" <= ch <= "\uf8ff" or ch in "ࡱ")
    return bad / len(line) > 0.3
