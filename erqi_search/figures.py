"""Figures in passages: indicator, value, unit, kind and period.

Policy reports are full of figures (地区生产总值完成253亿元, 优良天数达到165天,
同比增长9%左右). :func:`extract_figures` finds them clause by clause: the
number with its unit, the noun phrase before it as the indicator (a growth
rate with no noun of its own takes the indicator of the figure before it),
the kind (``level``, ``growth`` or ``count``) and the period the text gives.

>>> [(f.indicator, f.value, f.unit, f.kind) for f in extract_figures("地区生产总值完成253亿元,同比增长7.5%")]
[('地区生产总值', 253.0, '亿元', 'level'), ('地区生产总值', 7.5, '%', 'growth')]
>>> [(f.indicator, f.value, f.unit) for f in extract_figures("实现城镇新增就业2.1万余人")]
[('城镇新增就业', 2.1, '万人')]
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

COUNT_UNITS = "个|家|项|条|座|所|处|户|套|名|人次|人|辆|台|宗|场|次|块|批|件|棵|株|栋|间|万人次|万人|万户|万个|万名|万套|万辆|万台"
MONEY_UNITS = "万亿元|亿元|万元|元|亿美元|万美元|美元"
MEASURE_UNITS = "平方米|万平方米|平方公里|公里|千米|米|亩|万亩|吨|万吨|立方米|万立方米|千瓦|万千瓦|微克/立方米|天|小时|年|岁"
_UNIT = f"(?:%|‰|{MONEY_UNITS}|{MEASURE_UNITS}|{COUNT_UNITS}|倍|个百分点)"
_FIGURE = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?)(?P<mag>[万亿]?)(?P<approx>余|多)?(?P<unit>{_UNIT})(?P<about>左右|以上|以内)?"
)
_CLAUSE = re.compile(r"[^,，;；。！？!?\n]+")
_GROWTH = re.compile(r"(增长|增加|提高|提升|下降|降低|减少|回落|增速|增幅|上涨|占比|比重)[了为达到约近超]*$")
_LEAD = re.compile(
    r"^(其中|全年|全区|全市|全省|全县|今年|去年|上半年|下半年|一季度|前三季度|共|累计|总计|预计|完成|实现|新增?建?|"
    r"建成|达到|突破|超过|约|近|目前|截至目前|已|共计|同比|比上年|较上年|分别|年均|平均|城区|我区|本区)+"
)
_TAIL = re.compile(
    r"(完成|实现|达到|达|为|是|突破|超过|约|近|预计|累计|共|总计|总量|规模|共计|分别|均|年均|同比|比上年|较上年|"
    r"增长|增加|提高|提升|下降|降低|减少|回落|上涨|占|占比|比重|的|了|超|已|已经)+$"
)
_PERIOD = re.compile(
    r"(全年|上半年|下半年|前三季度|一季度|二季度|三季度|四季度|\d{1,2}[~～-]\d{1,2}月份?|截至\d{1,2}月\d{1,2}日|"
    r"截至目前|\d{4}年(?:\d{1,2}月)?|\d{1,2}月\d{1,2}日|\d{1,2}月份?|年底|年初)"
)
_YEARISH = re.compile(r"^(19|20)\d\d$")
#: Where the noun after a counted figure ends (12个安置房项目已开工 -> 安置房项目).
_NOUN_END = re.compile(r"(已|正在|正|将|全部|全面|均|顺利|进行|加快|完成|实现|开工|参与|得到|获得|入选|的)")


@dataclass(frozen=True)
class Figure:
    """One figure found in a passage."""

    indicator: str
    value: float
    unit: str
    kind: str  # "level", "growth" or "count"
    period: str
    text: str  # the clause it was found in
    year: int | None = None
    passage_id: str = ""
    doc_id: str = ""
    approx: str = ""  # 左右, 以上, 余, 多 ... as written

    def as_dict(self) -> dict:
        return asdict(self)


def _kind(unit: str, before: str) -> str:
    if _GROWTH.search(before) or unit in ("个百分点", "倍"):
        return "growth"
    if unit in ("%", "‰"):
        return "growth" if re.search(r"增|降|提高|下降|回落|上涨", before) else "level"
    if re.fullmatch(f"万?(?:{COUNT_UNITS})", unit):
        return "count"
    return "level"


def _indicator(before: str) -> str:
    """The noun phrase before a number: leading qualifiers and trailing verbs dropped."""
    phrase = re.split(r"[、:：]", before)[-1]
    phrase = re.sub(r"[“”\"'‘’《》()（）【】\s]", "", phrase)
    phrase = _PERIOD.sub("", phrase)
    for _ in range(3):
        phrase = _TAIL.sub("", _LEAD.sub("", phrase))
    return phrase[-16:]


def extract_figures(text: str, *, year: int | None = None, passage_id: str = "", doc_id: str = "") -> list[Figure]:
    """Every figure in ``text`` (full-width digits and ``**bold**`` allowed)."""
    plain = unicodedata.normalize("NFKC", text).replace("*", "")
    figures: list[Figure] = []
    for sentence in re.split(r"[。！？!?\n]", plain):
        period_match = _PERIOD.search(sentence)
        period = period_match.group(0) if period_match and not _YEARISH.match(period_match.group(0)) else ""
        last_indicator = ""
        for clause in _CLAUSE.finditer(sentence):
            start = 0
            for m in _FIGURE.finditer(clause.group()):
                before = clause.group()[start : m.start()]
                start = m.end()
                value = float(m.group("num"))
                unit = m.group("mag") + m.group("unit")
                if unit in ("年",) or (not m.group("mag") and _YEARISH.match(m.group("num")) and unit != "%"):
                    continue  # a year, not a figure
                after = re.match(r"[\u4e00-\u9fff]{2,10}", clause.group()[m.end():])
                counted = _kind(unit, before) == "count" and after
                noun = _NOUN_END.split(after.group())[0] if counted else ""
                indicator = _indicator(noun) if len(noun) >= 2 else (_indicator(before) or last_indicator)
                if not indicator or len(indicator) < 2:
                    continue
                last_indicator = indicator
                figures.append(Figure(
                    indicator=indicator, value=value, unit=unit, kind=_kind(unit, before), period=period,
                    text=clause.group().strip(), year=year, passage_id=passage_id, doc_id=doc_id,
                    approx=(m.group("approx") or "") + (m.group("about") or ""),
                ))
    return figures


def matches(indicator: str, query_forms: list[str]) -> bool:
    """Whether a figure's indicator names what the user asked for (any synonym form)."""
    from .analysis import normalize_text

    norm = normalize_text(indicator)
    return any(form and form in norm for form in query_forms)
