"""Department names as notices write them, and which of them are one unit.

A notice names a unit in full in its salutation (县市场监督管理局, 县市场监管局) and by its
line of work in the duty sections (市场监管部门). Both reduce to one key: the place and the
kind of body are dropped and the line of work is shortened the way offices shorten it
(市场监督管理 → 市场监管, 文化和旅游 → 文旅).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, load_phrases_dict

from config.notice.gazetteer import gazetteer
from config.notice.patterns import VERB_START

# What ends the name of a body that can be asked to report.
_ORG_END = re.compile(
    r"(?:部门|单位|委员会|办公室|领导小组|小组|联合会|协会|学会|商会|总局|总署|总会|集团|公司|"
    r"中心|支行|分行|银行|海关|法院|检察院|政府|大学|学院|学校|医院|开发区|高新区|新区|管委会|"
    r"局|委|办|厅|部|署|院|所|站|队|处|科|室|会|行|社|馆|团|联|台|校|协|司|镇|乡|街道)$"
)
# The kind of body, dropped from a key: 县发改局 and 发改部门 are one line of work.
_KIND = re.compile(r"(?:部门|单位|委员会|办公室|总局|总署|支行|分行|中心支行|局|委|办|厅|部|署)$")
# A place at the start of a name, when the notice does not say which: 县发改局, 市直机关.
# (市场监管 starts with 市 but is no place; a named place such as 大田县 comes from `places`.)
_PLACE = re.compile(r"^(?:县直|市直|省直|(?:县|市|省|区)(?!场|政|级|直|委|民))")
# Addressees that are groups, not units: 各有关企业, 各市场监管所, 县直有关单位, 省政府各部门,
# 县直文化单位, 市属高校, 省级学会, 成员单位, 区县科委 (every district's); and a kind of body
# alone (协会, 政府, 管委会).
_GROUP = re.compile(
    r"^(?:各|全体|其他|所属|下属|区县|县区|市县|县市(?!场)|市区县)|各|有关|相关|^(?:县|市|省|区)(?:直|属|级)(?!机关(?:党)?工委)|成员单位$|"
    r"^(?:人民政府|政府|管委会|协会|学会|研究会|单位|部门|机关|企业|学校|医院)$|^直属(?:单位|机构|部门)$"
)
# Roles in a duty list, not units: 「牵头单位:」, 「配合单位:」, 「成立领导小组:」.
_ROLE = re.compile(
    r"^(?:牵头|配合|责任|参加|参与|主办|承办|协办|支持|指导|成立|组建|设立)|^(?:单位|部门|机构)$"
)


def is_group(name: str) -> bool:
    return bool(_GROUP.search(name)) or name.endswith(("等", "们"))


def placed(name: str) -> bool:
    """Whether a name says where its body is (县发改局, 省委宣传部, 西宁海关, 国家统计局); 教育局
    or 党委宣传部 alone do not."""
    if re.search(r"[省市县区州旗盟]|^(?:中共|中国|国家|全国|中央|国务院|团)", name):
        return True
    found = gazetteer()
    return name.startswith(found.provinces + found.central) or bool(place_of(name))


def bare(name: str) -> str:
    """A name without the alternatives a list gives in brackets: 发展改革委(局) → 发展改革委,
    新疆生产建设兵团纲要办(科协) → 新疆生产建设兵团纲要办."""
    stripped = re.sub(r"\([^()]*\)$", "", name).strip()
    return stripped if is_org(stripped) else name


def is_unit(name: str) -> bool:
    """A body named one by one, that can be given work: no group (各有关部门), no role
    (牵头单位), no task read as a name (组织举办, 申报学校)."""
    return is_org(name) and not is_group(name) and not is_role(name) and not VERB_START.match(name)


def is_role(name: str) -> bool:
    return bool(_ROLE.match(name))


def is_org(name: str) -> bool:
    """A plausible name of a body: short, Chinese, ending as bodies' names end."""
    if not 2 <= len(name) <= 30 or not re.fullmatch(r"[\u4e00-\u9fff()0-9A-Za-z·]+", name):
        return False
    return bool(_ORG_END.search(name)) or any(name.endswith(b) for b in gazetteer().bodies)


def key(name: str, places: Iterable[str] = ()) -> str:
    """The line of work a name stands for: 县市场监督管理局, 县市场监管局 and 市场监管部门
    give 市场监管; 人行大田县支行 gives 人行."""
    core = shortened(_core(name, places))
    dropped = _KIND.sub("", core)
    if dropped != core:  # 质监局, 县工商局: a line of work under its name before 2018
        dropped = dict(gazetteer().renamed).get(dropped, dropped)
    return dropped if len(dropped) >= 2 else core


def shortened(name: str) -> str:
    """A name with its line of work shortened as offices shorten it (市场监督管理 → 市场监管,
    人民政府 → 政府)."""
    for long, short in gazetteer().short:
        name = name.replace(long, short)
    return name


def _core(name: str, places: Iterable[str]) -> str:
    """The name without its place: 人行大田县支行 → 人行支行, 县发改局 → 发改局."""
    core = name
    for place in sorted(places, key=len, reverse=True):
        if len(core) > len(place) + 1:
            core = core.replace(place, "")
    stripped = _PLACE.sub("", core)
    return stripped if len(stripped) >= 2 else core


def related(category: str, unit_key: str) -> bool:
    """Whether a line of work (金融) plausibly names a unit keyed otherwise (人行)."""
    return any(unit_key.startswith(k) for k in gazetteer().related.get(category, ()))


def same_body(name: str, other: str | None, places: Iterable[str] = ()) -> bool:
    """Whether two names stand for one body: one key, or one key the end of the other's
    (学校文明办 and 文明办)."""
    if not other:
        return False
    a, b = key(name, places), key(other, places)
    return a == b or (min(len(a), len(b)) >= 2 and (a.endswith(b) or b.endswith(a)))


def place_of(office: str) -> str | None:
    """The place an office belongs to: 大田县 of 大田县质量强县工作领导小组办公室."""
    office = re.sub(r"^中共", "", office)
    # A place's own name comes first: never 县, 市, 省 or 区 (县质量强县… has no place).
    m = re.match(
        r"^[^县市省区\W\d][\u4e00-\u9fff]{0,6}?"
        r"(?:自治区|自治州|自治县|特别行政区|省|市(?!场)|县|区|州|盟|旗)",
        office,
    )
    if m is None or len(m[0]) < 2 or m[0].startswith(("国家", "全国", "中华")):
        return None
    return m[0]


def split_names(text: str, at: str = "、,，;； ") -> list[str]:
    """Names listed with 、 , ; or spaces (or the separators `at`), those inside brackets left
    alone: 「各县(市、区)市场监管局、县发改局」 gives two names."""
    names, depth, current = [], 0, ""
    for ch in text:
        if ch in "(（〔[":
            depth += 1
        elif ch in ")）〕]":
            depth = max(depth - 1, 0)
        if depth == 0 and ch in at:
            names.append(current)
            current = ""
        else:
            current += ch
    names.append(current)
    return [n.strip() for n in names if n.strip()]


def split_joined(text: str) -> list[str]:
    """Names joined by 、 or by 和/及/与 after a body's name: 「团县委和县妇联」 gives two,
    「文化和旅游部门」 one."""
    return split_names(
        re.sub(r"(?<=[部局委办厅院会心社台队行协联团])(?:和|及|与|会同)", "、", text)
    )


def shared_suffix(names: list[str]) -> list[str]:
    """「发改、工信部门」: the last name's kind given to the names before it."""
    if len(names) < 2:
        return names
    kind = _KIND.search(names[-1]) or _ORG_END.search(names[-1])
    if kind is None:
        return names
    return [n if _ORG_END.search(n) else n + kind[0] for n in names[:-1]] + [names[-1]]


def code_for(name: str, places: Iterable[str], taken: set[str]) -> str:
    """A short ASCII code from the name's pinyin initials (县发改局 → fgj), unique among
    `taken`, which it joins."""
    core = _core(name, places)
    _bank_readings()
    letters = "".join(
        p[0] for p in lazy_pinyin(core, style=Style.FIRST_LETTER, errors="ignore") if p
    )
    base = re.sub(r"[^a-z0-9]", "", letters.lower())[:24] or "unit"
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    taken.add(code)
    return code


@lru_cache(maxsize=1)
def _bank_readings() -> None:
    """行 in a bank's name reads háng (人行 → rh), not xíng."""
    first = {"人": "rén", "支": "zhī", "分": "fēn", "银": "yín", "总": "zǒng"}
    load_phrases_dict({ch + "行": [[reading], ["háng"]] for ch, reading in first.items()})
