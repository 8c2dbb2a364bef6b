"""Figures in passages: indicator, value (or range), unit, kind, period.

Policy reports are full of figures (地区生产总值完成253亿元, 优良天数达到165天,
同比增长9%左右, 粮食产量达到四亿零七百多万吨). :func:`extract_figures` reads
them clause by clause: the amount (Arabic or Chinese numerals, a magnitude,
余/多, a unit, 左右/以上), the noun phrase that names what it measures, the
kind (``level``, ``growth`` or ``count``) and the period the sentence gives.
docs/figures.md lists the rules and their measured precision and recall.

>>> [(f.indicator, f.value, f.unit, f.kind) for f in extract_figures("地区生产总值完成253亿元,同比增长7.5%")]
[('地区生产总值', 253.0, '亿元', 'level'), ('地区生产总值', 7.5, '%', 'growth')]
>>> [(f.indicator, f.amount()) for f in extract_figures("实现城镇新增就业2.1万余人")]
[('城镇新增就业', '2.1万余人')]
>>> [(f.value, f.high, f.unit) for f in extract_figures("国内生产总值增长6.5%－7%")]
[(6.5, 7.0, '%')]
>>> [(f.indicator, f.value, f.period) for f in extract_figures("赤字率从去年的2.1%提高到2.3%")]
[('赤字率', 2.1, '去年'), ('赤字率', 2.3, '')]
>>> [(f.indicator, f.amount()) for f in extract_figures("钢三千九百万吨，增长百分之五点一")]
[('钢', '3900万吨'), ('钢', '5.1%')]
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .model import APPROX_PREFIX, RATE_UNITS, Figure
from .text import HAN, HAN_RE, normalize_text

# ----------------------------------------------------------------- the units

#: Money, measures and time: their figures are ``level`` unless a change verb
#: precedes them. A magnitude (万, 亿, 万亿) may stand before any unit.
MONEY_UNITS = ("元", "美元", "欧元", "港元", "日元", "英镑")
#: Money per month, per head, per kilowatt-hour ... (740元/月, 1分/千瓦时): levels.
PRICE_UNITS = tuple(f"{money}/{per}" for money in ("元", "分") for per in ("月", "年", "人", "户", "天", "吨", "亩", "千瓦时"))
MEASURE_UNITS = (
    "平方公里", "平方千米", "平方米", "平方公尺", "公尺", "公顷", "亩", "公里", "千米", "米", "立方米", "吨标准煤", "吨", "公斤",
    "千克", "斤", "担", "千瓦时", "千瓦小时", "千瓦", "吨公里", "人公里", "人海里", "吨海里", "度", "标准箱", "标箱", "重量箱",
    "微克/立方米", "毫克/立方米", "吨/日", "立方米/日", "岁", "方", "PF", "EFLOPS", "Eflops", "EFlops",
)
#: Lengths and areas: before a project they measure it (15公里雨水管网工程), unlike a capacity (120万吨乙烯项目).
_EXTENT_UNITS = ("平方公里", "平方千米", "平方米", "平方公尺", "公尺", "公顷", "亩", "公里", "千米", "米")
TIME_UNITS = ("天", "小时", "分钟", "个月", "个工作日", "工作日", "个自然日", "自然日", "周")
#: Classifiers of things counted: their figures are ``count``.
COUNT_UNITS = (
    "人次", "户次", "剂次", "件次", "人", "个", "家", "项", "条", "座", "所", "处", "户", "套", "名", "位", "辆", "台", "架", "艘", "场次", "架次",
    "部", "宗", "场", "次", "块", "批", "件", "棵", "株", "栋", "幢", "间", "张", "份", "起", "只", "头", "匹",
    "口", "眼", "种", "篇", "册", "颗", "枚", "轮", "列", "门", "艘次", "批次", "头只", "支", "款", "类", "片",
    "对", "笔", "例",
)
#: Units of change: always ``growth`` (番 only in 翻N番).
CHANGE_UNITS = ("个百分点", "百分点", "个千分点", "千分点", "倍", "番")

_ALL_UNITS = sorted({*MONEY_UNITS, *PRICE_UNITS, *MEASURE_UNITS, *TIME_UNITS, *COUNT_UNITS, *CHANGE_UNITS, *RATE_UNITS},
                    key=len, reverse=True)
_UNIT = "|".join(re.escape(u) for u in _ALL_UNITS)

#: A one-character unit followed by one of these characters starts a word
#: instead (人民, 项目, 处理, 家庭, 周年 ...): no unit there.
_NOT_A_UNIT_BEFORE = {
    "人": "民口员才均工大力士文群类生事心数", "次": "性生数序产", "场": "所景馆地次面", "处": "理置罚室长于在",
    "家": "庭园长乡族具电政", "项": "目", "条": "件例约款", "所": "有以得在属", "部": "门分署委",
    "名": "单称义牌片词", "座": "谈", "种": "植子类业养", "天": "然气津地下", "批": "准复", "起": "来步草",
    "只": "有要是能", "口": "岸径", "户": "籍口型", "个": "人体性别季", "周": "年边期", "宗": "教旨",
    "位": "于置居数", "元": "旦素宵", "间": "接", "度": "过假", "台": "湾阶", "担": "任当保心", "篇": "章",
    "头": "部", "米": "粮", "支": "持撑付出柱部队援配", "款": "项式", "类": "型似别", "块": "钱", "列": "入举车为出", "门": "诊户槛类店票面口前外", "片": "区", "对": "于外象接口标话比称待应策照付手抗此其", "笔": "记者墨试", "例": "如外行子会",
}

_CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN = "零〇○一二两三四五六七八九十百千万亿"
_MAGNITUDE = {"万": 1e4, "亿": 1e8, "万亿": 1e12}

_AMOUNT = re.compile(
    rf"(?P<pct>百分之|千分之)?(?P<num>\d+(?:\.\d+)?|(?:[{_CN.replace('千', '')}]|千(?![瓦米克伏]))+(?:点[零〇一二三四五六七八九]+)?)"
    rf"(?P<ap1>多|余)?(?P<mag>万亿|亿|万)?(?P<ap2>多|余)?(?P<unit>{_UNIT})?"
)
_SUFFIX = re.compile(r"左右|(?:及|和)?以上|(?:及|和)?以下|以内|上下|之内")
_PREFIX = re.compile(rf"(?:{APPROX_PREFIX})$")
_RANGE_SEP = re.compile(r"\s*(?:-|–|—|－|~|～|至|到)\s*")
_LATIN_UNIT = re.compile(r"[A-Za-z]{1,6}(?![A-Za-z])")

# ---------------------------------------------------------------- the periods

_YEAR = r"(?:\d{4}|[〇○零一二三四五六七八九]{4})年"
_NUMERAL = r"[一二三四五六七八九十两\d]{1,3}"
_PERIOD = re.compile(
    rf"((?:截至|截止到?)?{_YEAR}(?:\d{{1,2}}月(?:\d{{1,2}}日)?(?:份|底|末)?|[一二三四]季度|上半年|下半年|前三季度"
    rf"|年底|年末|底|末|初)?(?:(?:至|到|—|-|~){_YEAR})?(?:以来|以后|以前|之前|前(?![一二三四五六七八九十两\d])|期间)?"
    r"|截至(?:目前|\d{1,2}月\d{1,2}日|\d{1,2}月(?:底|末)|年底|年末)"
    r"|\d{1,2}[~～\-—至到]\d{1,2}月份?|[一二三四五六七八九十]{1,2}月份?[至到][一二三四五六七八九十]{1,2}月份?|\d{1,2}月\d{1,2}日|\d{1,2}月(?:份|底|末)?(?:前|以前|之前)?"
    rf"|过去(?:几|{_NUMERAL})年|(?<![是为])(?:{_NUMERAL}年前|(?:[一二三四五六七八九]十|[1-9]0)年代)|现在(?=的)|{_NUMERAL}年(?:来|内|间|中(?![央国华]))|(?<![学提])(?:[近前这头]|今后|未来)(?:几|{_NUMERAL})年|一年来"
    r"|(?:今年内|本年内|今年底|今年|去年底|去年末|去年|上年末|上年底|上年|本年|当年|同年|明年|前年|全年|年内|年底|年末|年初|上半年|下半年"
    r"|前三季度|第?[一二三四]季度)"
    r"(?:以来)?"
    r"|[“\"]?(?:十[一二三四五六七八九]?|[六七八九])五[”\"]?(?:时期|期间|以来|末)|本世纪末|上世纪末|主汛期|汛期|汛前|汛后)"
)
#: Before a period, these make it the base of a comparison (比上年), a share's
#: whole (占全年) or the start of a from-to pattern (从去年的), not the period.
_BASE_BEFORE = re.compile(r"(?:比|较|与|同|相比|占|超|等于|相当于)$")
_FROM_BEFORE = re.compile(r"(?:从|由)$")
#: After 全年, these make it an attribute (全年目标, 全年的平均工资).
_ATTRIBUTE_AFTER = re.compile(r"^(?:的|目标|任务|计划|预期|总任务)")
_LEADING_SPAN = re.compile(rf"^{_NUMERAL}年(?=[{HAN}])(?!代)")

# ------------------------------------------------------- the indicator grammar

#: Verbs of change: a figure right after one is a ``growth`` (增长9%), unless
#: 到/至/为 follows the verb (提高到50.5%: the level reached).
_CHANGE = (r"增长|增加|提高|提升|上升|上涨|下降|降低|减少|回落|下调|上调|扩大|缩小|缩减|压减|压缩|增产|减产|增收|减收|递增|递减|"
           r"净增加|净增|净减少|净减|减量|延长|缩短|削减|压降|"
           r"下滑|新增|增设|新设|新建|降价|涨价|提价|扩展|增|降|升|涨|减|高|低|多|少")
#: Verbs of adding new things: before a count they count the new things (新增1.2万户, 病床将增设6万张).
_NEW_THINGS = ("新增", "增设", "新设", "新建")
_CHANGE_AT_END = re.compile(rf"(?:{_CHANGE})(?:了|约|近|达|累计|共计|共)?$")
_CHANGE_AT_START = re.compile(r"^(?:增加(?!值)|减少|增产|减产|提高|降低|压减|节约)")
#: An agent, a modal and a change verb before the object: 国家银行将增加农业贷款 -> 农业贷款.
_AGENT_CHANGE = re.compile(rf"^(?:.{{2,12}}?(?:将|拟|要|计划|再|又|还|共|累计|共计|就|可以)|再|就?可以|为[{HAN}]{{2,6}}?)?"
                           r"(?:增加(?!值)|减少|增产|减产|压减|削减|节约|提高|降低|减轻|扩大|缩小|裁减|精减|精简)"
                           r"(?P<object>(?![的和及与了到至为]).{2,})$")
#: Nouns of a rate of change: stripped from the indicator, the figure is ``growth``.
_RATE_OF_CHANGE = re.compile(r"(?:增速|增幅|涨幅|降幅|增长速度|(?:增长|增加|减少|下降|上涨|降低)?幅度)$")
_RATE_NAME = re.compile(r"增长率$")
#: A comparison base inside the phrase before a number (还比年初计划, 较上年).
_BASE_INSIDE = re.compile(r"(?:还|也|又|将|仍)?(?:比|较)(?=年初|年度|上|前一年|去年|前年|同期|计划|预算|预期|目标|全国|全省|全市|平均"
                          r"|[一二三四五六七八九十两〇○\d]+年)")
#: 国务院提请全国人大常委会审议法律议案: what is submitted is the name.
_SUBMITTED = re.compile(rf"^[{HAN}]{{0,8}}?(?:提请[{HAN}]{{2,12}}?|[{HAN}]{{0,6}}?人大常委会)(?:审议|制定修订|制定|修订)"
                        rf"(?=[{HAN}]{{2}})")
#: Adverbs inside a name (总门户累计接入服务事项, 制造业重大项目完成投资), and a
#: modal between a funder and its spending verb (中央财政将投入).
_INNER = re.compile(rf"(?<=[{HAN}]{{2}})(?:累计|已经|已|完成(?=投资|营业额|产值)|(?:将|拟)?每年(?:将|拟)?(?=安排|投入))"
                    rf"(?=[{HAN}]{{2}})"
                    r"|(?<=财政)(?:为此|将|拟|要|计划|再|又|共|累计|已)+(?=(?:投入|支出|安排|拿出)$)")
#: A name per head or per unit (每万人口, 每千人, 人均): its figure is a ratio.
_PER_HEAD = re.compile(r"^(?:每[十百千万亿]?[人户元平公亩]|人均|户均|万人|千人|百人)")
#: 计划 before a verb of change is the plan, not part of the name (工农业总产值计划增长21.7%).
_PLANNED_CHANGE = re.compile(rf"(?<=[{HAN}]{{2}})计划(?=(?:增长|递增|提高|增加|下降|降低|减少)[^{HAN}]*$)")
_GROWTH_NAME = re.compile(r"增长(?:预期)?目标$")
#: The target or forecast of a growth rate names the rate (经济增长速度的调控目标定为8%, 经济增长预期为7%).
_ECONOMY = re.compile(r"(?:国民)?经济")  # 经济 alone names nothing: its growth keeps 增长
_GROWTH_TARGET = re.compile(r"(增长(?:速度)?)的?(?:宏观)?(?:(?:调控|预期)*目标|预期)(?:确定为|定为|定在|为|是|在)?$")

#: Words stripped from the end of the phrase before a number, again and again:
#: particles, copulas, prepositions and coverbs (由, 从, 按, 拟按, 达到, 保持在),
#: modal and aspect words (拟, 预计, 预期, 力争, 已), adverbs (共, 累计, 分别,
#: 实际, 年均) and change verbs. A leftmost match wins, so a two-character word
#: goes before its last character (拥有 before 有).
_TAIL = re.compile(
    r"(?:的|了|着|过|是|为|有|拥有|已有|共有|约|近|将近|接近|大约|达|达到|高达|超|超过|逾|突破|低于|高于|不到|不足|"
    r"不低于|不少于|不超过|不过|小于|大于|仅|仅有|只有|只|就|则|仍|仍然|依然|继续|占|(?<![主需纲重概摘])要|"
    r"应该|应当|必须|准备|估算|竟|一律|一般|有望|可望|预定|(?<![许认])可|(?:不仅)?(?<![淹吞埋湮覆])没|(?<=[率量额值数积模])计划|"
    r"也|都|(?<![人亩户日])均|分别|又|再|还|却|已|已经|将|拟|预计|预期|力争|争取|确保|保持在|控制在|稳定在|维持在|"
    r"保持|控制|稳定|维持|在|到|至|于|按|按照|依|以|由|从|(?<!占)比|较|完成|实现|建成|累计|总计|共计|合计|(?<!公)共|总共|"
    r"[月年]人均|每\d{1,4}(?:公斤|斤|千克|吨|亩|平方米)|"
    r"拟定|定为|定在|原定|覆盖|率先|在全[国省市区]|大幅度|大幅|"
    r"安排|进一步|可以|保证|一直|始终|依然|全国|全省|全市|全区|全县|等于|相当于|(?:[一二三四五六七八九十两]{1,3}|\d{1,2})年|"
    rf"{_CHANGE}|翻|实际|名义|年均|平均|每年|每天|每月|每人|每户|人均|户均|同比|环比|同口径|可比|首次|基本|全面|全部|同期|先后|其中)$"
)
#: Verbs of action before their object (办理人大代表建议, 新增精品示范村): what
#: is counted is the object. Verbs that also name a kind of thing (经营主体,
#: 发热门诊, 改造任务, 建设用地) are not among them.
_ACTION = (r"新增(?!加)|新建|新设|新开工|新创建|新认定|新引进|新培育|新开通|创建|培育|引进|打造|举办|办理|废止|制定|修订|出台|"
           r"发放|安排|下达|拨付|投放|筹措|带动|吸引|缓建|开通|开行|关停|关闭|淘汰|取得|投运|提请|推出|实施|开展|救助|帮助|"
           r"扶持|资助|惠及|覆盖|补充|转化|接入|整治|审议|提升|推动|派出|续建|投产|推进|修改|办结|追讨|改扩建")
#: Who funds or acts (中央财政预算拟安排补助资金, 国家投运海外仓): not part of what is counted.
_FUNDER = r"(?:中央|国家|省级?|市级?|各级)"
_FUNDS = r"(?:财政|政府)?(?:预算)?(?:拟|将|要|计划)?"
#: Words stripped from the start: scope (全国, 全省, 我市), discourse words
#: (其中, 此外, 一是), achievement verbs (完成, 实现, 建成) and adverbs.
_LEAD = re.compile(
    r"^(?:了|的|继续|其中|其余|另外|此外|同时|目前|当前|现在|现已|如果|虽然|尽管|但是|但|而且|而|并且|并将|并(?![购网])|则|还|也|又|都|"
    r"和(?!美|谐|平)|以及|及(?!时)|与(?!会)|各种|各类|各项|"
    rf"[{HAN}]{{1,2}}了(?=[{HAN}]{{2}})|"
    r"共有|共计|共(?![青同享]|建(?!立|成|设))|"
    r"总计|合计|累计|预计|已经|已|全国|全省|全市|全区|全县|全州|全盟|全旗|全疆|我国|我省|我市|我区|我县|本省|本市|本区|"
    r"本县|[一二三四五六七八九十]{1,2}是|首先|其次|完成|实现|建成|达到|确保|力争|争取|要|将|所谓|(?:平均)?每个?(?:工作日|天|日|周|月)|每年|逐年|适当|分别|把|到|至|"
    r"即(?![将时])|例如|比如|努力|率先|提前|其(?![他余中次])|由(?=中央|国家|省|市)|年均(?!浓度|值)|我们|"
    rf"计划(?!生育|单列|经济|内|外|单位|投资|总投资)(?=[{HAN}]{{3}})|使(?!用|命|馆|者|节)|"
    r"为此|这些|这样一个|这(?=方面)|那么|再(?!生|制造|贷款|就业|教育|保险|融资|担保)|认真|依法|圆满|积极|全力|大力|切实|着力|扎实|方面(?=..)|"
    r"能够|能(?![源力耗效级量])|可(?![再持比降])|会(?![议展员])|应(?![用急对届])|才|拟|只|仅|进一步|逐步|为(?=到)|"
    rf"(?:{_ACTION})(?:和|及|、|或)?(?:改造|改建|扩建|提升|升级)*(?=[{HAN}A-Za-z0-9]{{3}})|"
    rf"{_FUNDER}?{_FUNDS}(?=(?:安排|投入|下达|拨付)[{HAN}]{{3}})|{_FUNDER}{_FUNDS}(?=(?:{_ACTION})[{HAN}]{{3}}))+"
)
#: Reporting verbs: what follows them is the content (中央提出今年经济增长目标为8%).
_REPORTING = re.compile(r"^.*?(?:提出|确定|明确|规定|要求|(?<!互)认为)(?=.)")
#: Where a noun phrase after a counted figure ends (12个安置房项目已开工).
_NOUN_END = re.compile(
    r"已|正在|正|将|全部|全面|均|都|顺利|进行|加快|完成|实现|(?<!新)开工|参与|参加|得到|获得|获|入选|的|成功|通过|摆脱|展开|"
    r"全覆盖|开始|有望|可望|发展|成长|先后|相继|陆续|累计|共计|共有|分别|提高|增长|增加|下降|减少|降低|达到|达|突破|超过|被|纳入|列入|支持|"
    r"再上|再创|再次|再度|又创|提前|新?建成(?!区)|延长|缩短|完工|基础上|初步|融入|解决|发放|免除|上线|"
    r"用于|安排|享受|受益|按照|提供(?!的)|提请|投入|投产|投用|投运|落户|签约|覆盖|惠及|带动|吸纳|实施|启动|开展|来|(?<![存所现实内潜自])在(?!校|岗|职|建|读)|(?<![方导意走动面取转倾志投])向(?=[^\d])|存在|"
    r"积极|主动|共同|纷纷|不断|持续|逐步|进一步|稳步|就(?![业医学读])|能够|可以|降至|降为|降到|升至|免费(?!师范)|按时|按期|由于|"
    r"一次性|争取|大幅|大幅度|明显|显著|直接|荣获|落地|见效|上榜|得以|进入|第|上升|上涨|提升(?!项目|工程|行动)|回落|下调|上调|扩大|缩小|递增|递减|"
    rf"相对|\d(?![A-Za-z])|(?<=[{HAN}]{{2}})(?:对(?![口外接象应照])|全(?=省|市|国|区))"
)
#: A conjunct with a quantifier of its own after a counted noun (以及一批, 和3个).
_OTHER_CONJUNCT = re.compile(rf"(?<=[{HAN}]{{2}})(?:和|及|以及|与)(?=(?:其他|其余)?(?:一批|一些|部分|若干|[一二三四五六七八九十两\d]+[个项家条座所批]))")
#: A setting in time or place at the start (在调整初期, 在工业建设项目中).
#: 把 before what a verb acts on (在本世纪末把我国人口控制在12亿左右).
_DISPOSAL = re.compile(rf"^[{HAN}]{{0,12}}?(?:把|将(?=[{HAN}]{{2,}}(?:从|由)))(?=[{HAN}]{{2}})")
_SETTING = re.compile(r"^在[^在]{0,10}?(?:初期|末期|期间|时期|之中|前提下|情况下|条件下|中|上|下|时|后|前|以来)")
#: Asides on how a change is counted (考虑价格下降因素, 按可比价格计算).
_ASIDE = re.compile(r"(?:考虑|扣除|剔除)[^,，]{0,8}?因素(?:后)?|(?:如果)?(?:仍然)?按照?[^,，按]{0,12}?(?:价格|口径)(?:计算)?"
                    r"|按[^,，按]{1,6}?计算?(?!划)|连续[一二三四五六七八九十两\d]{1,3}(?:年|个月)|从开始|从起")
_QUOTES = re.compile(r"[“”\"'‘’《》〈〉「」『』【】()（）\s]")
_PARENS = re.compile(r"[(（][^()（）]*[)）]")
_CLAUSE = re.compile(r"[^,，;；]+")
_CLAUSE_BREAKS = re.compile(r"[,，;；]")
_SENTENCE = re.compile(r"[。！？!?\n]")
#: Traditional forms of numerals and units, read as their simplified forms.
#: Enclosed numbers (①, ⑵, ⒊, ㈠, ❶) number the items of a list; NFKC would
#: make them digits (②组织培训23万人次 -> 2组织培训).
_LIST_MARKS = re.compile("[\u2460-\u249b\u3220-\u3229\u2776-\u2793]")
_TRADITIONAL_NUMERALS = re.compile("[萬億兩餘點個項噸畝臺輛戶處條間隻張擔佔於]")
_TRADITIONAL = str.maketrans("萬億兩餘點個項噸畝臺輛戶處條間隻張擔佔於", "万亿两余点个项吨亩台辆户处条间只张担占于")


# ------------------------------------------------------------------- numbers

def _cn_integer(text: str) -> int:
    total = section = number = 0
    for ch in text:
        if ch in _CN_DIGITS:
            number = _CN_DIGITS[ch]
        elif ch in "十百千":
            section += (number or 1) * {"十": 10, "百": 100, "千": 1000}[ch]
            number = 0
        elif ch == "万":  # 万 alone (超万亿) is one 万
            section = ((section + number) or 1) * 10_000
            number = 0
        elif ch == "亿":
            total = ((total + section + number) or 1) * 100_000_000
            section = number = 0
    return total + section + number


def chinese_number(text: str) -> float:
    """The value of a Chinese numeral.

    >>> chinese_number("四亿零七百万"), chinese_number("二十一点七"), chinese_number("一千二百零一")
    (407000000.0, 21.7, 1201.0)
    """
    whole, _, fraction = text.partition("点")
    value = float(_cn_integer(whole))
    if fraction:
        value += float("0." + "".join(str(_CN_DIGITS[c]) for c in fraction))
    return value


@dataclass
class _Amount:
    start: int
    end: int
    value: float
    high: float | None
    unit: str  # with its magnitude; "" for a naked number (the low end of 6.5-7%)
    prefix: str  # 约, 近, 超, 低于 ... written before the number
    approx: str  # prefix + 余/多 + 左右/以上 ...
    bare: bool = False  # a magnitude without a unit (5575万农村贫困人口)


def _prepare(text: str) -> str:
    """NFKC, traditional numerals, no markup; 4·3 and 3,120 and 1 9 9 8 read as numbers."""
    plain = unicodedata.normalize("NFKC", _LIST_MARKS.sub("", text)).replace("*", "")
    if _TRADITIONAL_NUMERALS.search(plain):
        plain = plain.translate(_TRADITIONAL)
    plain = re.sub(r"(?<=\d)[·・](?=\d)", ".", plain)
    plain = re.sub(r"(?<![\d.])(\d+(?:\.\d+)?)万多亿", r"\1多万亿", plain)  # 4万多亿元
    plain = re.sub(r"(?<![\d.])(\d+)万(\d)千(?![\d万亿])", r"\1.\2万", plain)  # 2万5千公里
    plain = re.sub(r"(?<![\d.])(\d)千(?![\d瓦米克伏帕焦卡])", r"\g<1>000", plain)  # 5千多户, 3千万 (but 5千瓦)
    plain = re.sub(r"每立方米(\d+(?:\.\d+)?)(微克|毫克)", r"\1\2/立方米", plain)  # 每立方米20微克
    plain = re.sub(r"(?<=\d)(微克|毫克)每立方米", r"\1/立方米", plain)  # 35微克每立方米
    plain = re.sub(r"(?<=\d) (?=\.?\d)|(?<=\d\.) (?=\d)", "", plain)
    plain = re.sub(rf"(?<=\d)\s+(?=[%‰{HAN}])", "", plain)
    return re.sub(r"(?<![\d.])(\d{1,3})((?:,\d{3})+)(?![\d.])", lambda m: m.group(1) + m.group(2).replace(",", ""),
                  plain)


def _quoted(sentence: str) -> list[bool]:
    """For each character of ``sentence``: inside quotes or a title?"""
    mask, depth, straight = [], 0, False
    for ch in sentence:
        if ch in "“「『《〈":
            depth += 1
        elif ch in "”」』》〉":
            depth = max(depth - 1, 0)
        elif ch == '"':
            straight = not straight
        mask.append(depth > 0 or straight)
    return mask


def _chinese_amount(m: re.Match, before: str) -> tuple[int, float, float | None, str] | None:
    """``(start, value, high, magnitude)`` of a Chinese numeral, or None."""
    num, ap1, mag = m.group("num"), m.group("ap1"), m.group("mag") or ""
    whole = num.partition("点")[0]
    if not re.search("[一二两三四五六七八九十百千万亿]", num) or re.fullmatch("[〇○零一二三四五六七八九]{2,}", whole):
        return None  # 〇, or a year written digit by digit (一九五三)
    start, low, high = m.start(), num, None
    span = re.match(r"([一二三四五六七八九两])([二三四五六七八九])(?=[十百千万亿])", num)
    pair = re.search(r"([一二三四五六七八九])、$", before)
    if span and _CN_DIGITS[span.group(2)] == _CN_DIGITS[span.group(1)] + 1:  # 三四十万: 30-40万
        low, high = span.group(1) + num[2:], num[1:]
    elif pair and num[0] in _CN_DIGITS and _CN_DIGITS[num[0]] == _CN_DIGITS[pair.group(1)] + 1:  # 二、三十亿
        low, high, start = pair.group(1) + num[1:], num, start - 2
    if ap1 and mag:  # 四亿零七百多万: the magnitude after 多 counts the whole number
        low, high = low + mag, (high + mag if high else None)
        unit_mag = mag
    else:
        unit_mag = "万亿" if num.endswith("万亿") else "亿" if re.search("亿|万万", num) else "万" if "万" in num else ""
    factor = _MAGNITUDE.get(unit_mag, 1)
    return (start, chinese_number(low) / factor, chinese_number(high) / factor if high else None, unit_mag)


_PROJECT_LIST = re.compile(rf"(?!的)[{HAN}A-Za-z0-9×、.]{{1,40}}?等(?:一批)?(?:重点|重大)?(?:工业)?项目")
_NEXT_IN_LIST = re.compile(rf"[和、及与][\d{_CN}]")  # 不低于740元/月和485元/月


def _read_amount(m: re.Match, clause: str) -> _Amount | None:
    """The amount matched at ``m``, or None where it is not a figure."""
    num, pct = m.group("num"), m.group("pct")
    before = clause[: m.start()]
    prefix_match = _PREFIX.search(before)
    prefix = prefix_match.group() if prefix_match else ""
    chinese = not num[0].isdigit()
    if prefix == "上" and not (chinese and num[0] in "百千万亿"):
        prefix = ""
    if chinese:
        if num[0] in "百千万亿" and prefix not in ("上", "近", "超", "逾", "约", "将近", "接近", "突破", "超过"):
            return None  # 千万 (must), 百姓, 万众: a leading magnitude needs 上/近 (上百万, 近千万)
        read = _chinese_amount(m, before)
        if read is None:
            return None
        start, value, high, mag = read
    else:
        if re.search(r"[A-Za-z\d.]$", before):
            return None  # PM2.5, G20
        start, value, high, mag = m.start(), float(num), None, m.group("mag") or ""
    if re.search(r"(?:第|届|每|编号)$", clause[:start]) or (chinese and re.search(r"[几数]$", clause[:start])):
        return None  # 第3位, 十二届八次, 每10万人; 几十万, 数千 (no number)
    unit, end = m.group("unit") or "", m.end()
    ap = m.group("ap1") or m.group("ap2") or ""
    if unit and clause[end:end + 1] and clause[end] in _NOT_A_UNIT_BEFORE.get(unit, "") \
            and not (unit == "个" and re.match(r"人(?:民|口)(?![\d一二三四五六七八九十百千万])", clause[end:])):  # 24000多个人民公社
        unit = ""
        end = max(m.end(g) for g in ("num", "ap1", "mag", "ap2") if m.group(g))
    if pct:
        if unit or m.group("mag"):
            return None
        unit = "%" if pct == "百分之" else "‰"
    elif not unit and mag:
        latin = _LATIN_UNIT.match(clause, end)  # 1.6万P
        if latin:
            unit, end = latin.group(), latin.end()
    if chinese and num == "一" and not mag and unit not in CHANGE_UNITS:
        return None  # 一个, 一批, 一次: an article, not a count
    if chinese and len(num) == 1 and not mag and (unit in COUNT_UNITS or unit in MONEY_UNITS) and unit != "次" \
            and not (num in "百千" and _PREFIX.search(before)):  # but 突破千项, 近百个
        return None  # 三个方面, 四项基本原则, 两个大局, 三元乳业: formulas and names, rarely counts
    if not unit and not pct and clause[end:end + 1] == "年" and re.search(r"年限|寿命", before):
        unit, end = "年", end + 1  # 受教育年限达到10.5年
    if unit == "番" and not re.search(r"翻了?$", before) or unit == "方" and not mag:
        return None  # 翻两番 only; 370亿方 (cubic metres), but 三方, 双方
    upper = re.match(r"(?:到|至|—|-|~)([一二三四五六七八九十]+(?:点[零一二三四五六七八九]+)?)(?![十百千万亿])", clause[end:]) \
        if pct and chinese and high is None else None
    if upper and chinese_number(upper.group(1)) > value:
        high, end = chinese_number(upper.group(1)), end + upper.end()  # 百分之二到三: 2%-3%
    if unit == "次" and re.match(r"(?:[、和][一二三四五六七八九十\d]+次)*(?:全会|全体会议|会议|常委会)", clause[end:]):
        return None  # 五次全会: a session, not a count
    if unit == "个" and clause[end:end + 2] in ("多月", "余月"):  # 1个多月
        unit, ap, end = "个月", clause[end], end + 2
    if unit == "个月" and re.search(r"[前近头这]$", clause[:start]):
        return None  # 前十一个月: a period, not a figure
    if unit in ("名", "位", "强", "%") and clause[:start].endswith("前"):
        return None  # 跻身全球前20名, 进入ESI全球前1%: a rank, not a figure
    if unit == "倍" and clause[end:end + 1] in ("多", "余"):
        ap, end = clause[end], end + 1
    elif unit == "倍" and clause[end:end + 1] == "半":  # 六倍半
        value, end = value + 0.5, end + 1
    after = clause[end:]
    suffix = _SUFFIX.match(after)
    if (unit or mag) and after.startswith("级"):
        return None  # 百万千瓦级, 10万吨级: a class, not a figure
    if (re.search(r"(?:年产|日产|日处理|时速|单机|单体)$", before) or (
            prefix in ("超", "超过", "逾", "不低于", "不少于", "低于", "高于") and unit not in COUNT_UNITS)) \
            and HAN_RE.match(after) and not _NOUN_END.match(after) and not _NEXT_IN_LIST.match(after):
        return None  # 日产500吨熟料生产线: a capacity in a name
    if unit in MEASURE_UNITS and unit not in _EXTENT_UNITS \
            and re.match(rf"(?!的)[{HAN}]{{0,8}}(?:项目|工程|生产线|机组|码头|装置|电站|电厂)", after):
        return None  # 120万吨乙烯项目: a capacity in a name (but 15公里雨水管网二期工程: its length)
    if unit in MEASURE_UNITS and unit not in _EXTENT_UNITS and _PROJECT_LIST.match(after):
        return None  # 大唐700万吨露天煤矿、5万千瓦风电等项目: capacities in a list of projects
    if (unit not in COUNT_UNITS or unit in ("人", "人次")) and unit not in RATE_UNITS and suffix \
            and (unit or after[suffix.end():].startswith("的")) \
            and suffix.group().endswith(("以上", "以下")) and re.match(rf"(?:的)?[{HAN}]", after[suffix.end():]):
        return None  # 60岁以上老人, 5000万元以上项目, 5000吨标准煤及以上重点用能单位: a threshold in a name
    if unit == "岁" and re.match(rf"(?![以左之的])[{HAN}]", after):
        return None  # 0-6岁儿童, 65岁老人: an age in a name
    if unit in TIME_UNITS and HAN_RE.match(after) and not re.match(r"[以左内之的并和、及或到至]|延长|缩短|压缩|减少|增加", after):
        return None  # 15分钟生活圈 (but 由109天延长到127天)
    if suffix:
        end += suffix.end()
    approx = prefix + ap + (suffix.group() if suffix else "")
    return _Amount(start, end, value, high, mag + unit, prefix, approx, bare=bool(mag) and not unit)


def _amounts(clause: str, quoted: list[bool]) -> list[_Amount]:
    """The amounts of a clause, ranges folded (6.5%-7%, 3至5个, 一、二千万亩)."""
    found: list[_Amount] = []
    naked: _Amount | None = None
    pos = 0
    while (m := _AMOUNT.search(clause, pos)) is not None:
        pos = max(m.end(), m.start() + 1)
        if quoted[m.start()]:
            continue
        amount = _read_amount(m, clause)
        if amount is None:
            continue
        pos = max(pos, amount.end)
        if naked is not None and _range_of(naked, amount, clause):
            found.append(naked)
        elif found and _range_of(found[-1], amount, clause):
            pass
        elif amount.unit:
            found.append(amount)
        naked = amount if not amount.unit else None
    for first, second in reversed(list(zip(found, found[1:]))):  # 分别净减少10.6万、3.8万平方公里
        if first.bare and not second.bare and second.unit.startswith(first.unit) \
                and _LIST_JOINER.fullmatch(clause[first.end: second.start].strip()):
            first.unit, first.bare = second.unit, False
    return found


def _range_of(first: _Amount, second: _Amount, clause: str) -> bool:
    """Fold ``second`` into ``first`` when they are the two ends of a range."""
    between = clause[first.end:second.start]
    if first.high is not None or second.high is not None or not second.unit:
        return False
    if not _RANGE_SEP.fullmatch(between):
        return False
    if re.search(r"(?:从|由)[^从由]*$", clause[: first.start]):
        return False  # 从2.1%到2.3%: a from-to, not a range
    if first.unit and first.unit != second.unit and not (first.bare and second.unit.startswith(first.unit)):
        return False  # (but 八十万至一百三十万吨: the magnitude shared)
    first.high, first.unit, first.end, first.bare = second.value, second.unit, second.end, second.bare
    if second.approx and second.approx not in first.approx:
        first.approx += second.approx[len(second.prefix):]
    return True


def _unit_kind(unit: str, bare: bool) -> str:
    base = unit[2:] if unit.startswith("万亿") else unit[1:] if unit[:1] in ("万", "亿") else unit
    if bare or base in COUNT_UNITS:
        return "count"
    return "level"


# --------------------------------------------------------------- the phrases

def _periods(sentence: str) -> list[tuple[int, int, str, str]]:
    """``(start, end, period, role)`` for each period: role "" (the period of
    what follows), "from" (the start of a from-to) or "no" (a base, a share's
    whole, an attribute)."""
    out = []
    lead = _LEADING_SPAN.match(sentence)
    if lead:
        out.append((0, lead.end(), lead.group(), ""))
    for m in _PERIOD.finditer(sentence):
        before, after = sentence[: m.start()], sentence[m.end():]
        text = re.sub(r"[“”\"]", "", m.group())  # “十五”期间 -> 十五期间
        text = re.sub(r"^截止到?", "截至", text)
        if _BASE_BEFORE.search(before) or (m.group() == "全年" and _ATTRIBUTE_AFTER.match(after)):
            role = "no"
        elif _FROM_BEFORE.search(before):
            role = "from"
        else:
            role = ""
        out.append((m.start(), m.end(), text, role))
    return out


def _strip(phrase: str) -> str:
    """The phrase without what precedes or follows the name of the measure."""
    for _ in range(8):
        stripped = _LEAD.sub("", _TAIL.sub("", phrase))
        if stripped == phrase:
            break
        phrase = stripped
    return phrase


def _indicator(before: str) -> tuple[str, bool]:
    """The noun phrase naming what the number after ``before`` measures, and
    whether its name said it is a rate of change (增速, 涨幅)."""
    phrase = _PARENS.sub("", before)
    if (enumerated := phrase.rfind("、")) >= 0 and (quote := phrase.find("“", enumerated)) > enumerated + 1:
        phrase = phrase[quote:]  # 锂电池、太阳能电池“新三样”出口总额: the quoted name sums the list up
    phrase = _QUOTES.sub("", phrase)
    pieces = re.split(r"[、:：]", phrase.removesuffix("等"))
    tail = pieces[-1]  # 盛润运河城等17个项目: the noun after names it
    if len(pieces) > 1 and not _strip(_PERIOD.sub("", tail)) and re.search(r"[:：]\s*[^:：、]*$", phrase):
        tail = pieces[-2]  # 钢：从135万吨增加到412万吨: the heading names what follows
    if "、" in phrase and "等" in tail:
        tail = tail.rsplit("等", 1)[-1]
    phrase = _ASIDE.sub("", _PERIOD.sub("", tail))
    phrase = _LEADING_SPAN.sub("", phrase)
    phrase = _REPORTING.sub("", phrase)
    phrase = _DISPOSAL.sub("", _SETTING.sub("", phrase))
    phrase = _PLANNED_CHANGE.sub("", phrase)
    if (target := _GROWTH_TARGET.search(phrase)) and (rated := _strip(phrase[: target.start()])):
        return rated + (target.group(1) if _ECONOMY.fullmatch(rated) else ""), True  # 广义货币增长目标: 广义货币
    phrase = _strip(phrase.lstrip("的"))
    rate = False
    while (m := _RATE_OF_CHANGE.search(phrase)) and m.start() > 0:
        rate, measure = True, _strip(phrase[: m.start()])
        if _ECONOMY.fullmatch(measure):
            break  # 经济增长速度: the economy's growth keeps its name
        phrase = measure
    phrase = _INNER.sub("", _SUBMITTED.sub("", phrase))
    acts = [m for m in _AGENT_ACTS.finditer(phrase) if m.start() >= 2 and not _PER_UNIT.search(phrase, 0, m.start())]
    if acts:
        phrase = phrase[acts[-1].end():].lstrip("的")  # 鄂州花湖机场开通国际国内货线, 为老年人发放高龄补贴: what is acted on
    base = _BASE_INSIDE.search(phrase)
    if base and base.start() >= 2:
        phrase = phrase[: base.start()]  # 货币发行还比年初计划(少了): what follows 比 is the base
    if re.match(r"(?:比|较|与|等于|相当于)", phrase):
        return "", rate  # 比农民的平均收入高一倍: a base of comparison, not the measure
    if agent := _AGENT_CHANGE.match(phrase):
        return agent.group("object"), True
    return phrase, rate or bool(_RATE_NAME.search(phrase))


def _noun_after(clause: str, end: int, unit: str, limit: int | None = None) -> str:
    """The noun phrase right after an amount (12个安置房项目 -> 安置房项目),
    before ``limit`` (where the next amount starts)."""
    after = _QUOTES.sub("", _PARENS.sub("", clause[end:limit]))
    after = re.sub(r"^的|^\d+(?:\.\d+)?周?岁(?:及|和)?(?:以上|以下)?的?", "", after)  # 1467位80岁以上低收入老年人
    run = re.match(rf"[{HAN}A-Za-z0-9.]+", after)
    if not run or _CLAUSE_GOES_ON.match(run.group()) or run.group().startswith("等"):
        return ""  # 突破40万亿元并连续多年居世界首位: what follows goes on about the figure (or 等各项任务 sums it up)
    noun = _NOUN_END.split(_PERIOD.split(run.group())[0])[0][:16]
    if unit == "次" or (unit.endswith("次") and not noun):
        return run.group()[:16]  # a verbal classifier: the event is the verb phrase (五次降低利率, 1700多万人次受益)
    noun = _GENERIC_AFTER_LIST.sub("", noun)  # 350万株花卉种植等项目 (but 28万平方米小梁薄板房屋等不成套旧住房改造)
    noun = _before_verb_with_le(_OTHER_CONJUNCT.split(noun)[0])  # 192个重点国有企业以及一批国有金融机构
    noun = re.sub(r"(?<=项目|工程)建设$", "", noun)  # 2个国家重大产业备份项目建设
    if _THRESHOLD_NOUN.match(noun):
        return ""  # 突破2万亿元大关, 迈上4万亿元新台阶: a figure of speech, not what is measured
    if "在" in clause[:end]:
        noun = re.sub(r"(?<=..)(?:中|之中|内)$", "", noun)  # 在六亿五千万人民中
    return re.sub(r"(?:和|与|及|以及|或|(?<![公条合契协规])约|近|超|达)+$", "", noun)  # (but 国际人权公约)


_CLAUSE_GOES_ON = re.compile(r"并|且|而|但|同时|(?:和|及|以及|与)(?!谐|平|美)|(?:增加|减少|增长|下降|提高|降低|扩大|缩小|压缩|减|增|降|升)(?:为|到|至)")
#: A generic noun after 等 ends a list whose members name the figure (路网等配套设施).
_GENERIC_AFTER_LIST = re.compile(r"(?<=..)等(?:配套)?(?:项目|设施|工程|措施|产品|工作|任务|活动)(?:建设)?$")
_COMPLEMENTS = frozenset("上下到出起完好过来去成")


def _before_verb_with_le(phrase: str) -> str:
    """The noun phrase before a verb marked by 了 (300多个城市建立了… -> 城市,
    14万困难群众圆了安居梦 -> 困难群众), the verb found by the dictionary."""
    if "了" not in phrase[1:]:
        return phrase
    from .dictionary import full_segmenter

    spans = full_segmenter().spans(phrase)
    words = [phrase[s:e] for s, e in spans]
    for i, word in enumerate(words):
        if i and words[i - 1] != "了" and (word.endswith("了") or words[i + 1 : i + 2] == ["了"]):
            if word in _COMPLEMENTS and i > 1:
                i -= 1  # 困难家庭住上了新房: the verb is 住, 上 its complement
            start = spans[i][0]
            return phrase[:start] if start >= 2 else phrase
    return phrase


def _kind(amount: _Amount, before: str, indicator: str, rate: bool, object_after: bool = False,
          after_growth: bool = False) -> str:
    """growth after a change verb (增长9%, 比上年增加50万人) or for 个百分点/倍;
    count for counted things; else level (a share or a rate is a level)."""
    unit = amount.unit
    if unit in CHANGE_UNITS:
        return "growth"
    counted = _unit_kind(unit, amount.bare) == "count"
    change = _CHANGE_AT_END.search(before) if not object_after else None  # 提升112万亩高标准农田: an object
    if change and counted and change.group().startswith(_NEW_THINGS) and not re.search(r"比|较|同比", before):
        change = None  # 新增1.2万户: a count of new things
    if change or rate or (_CHANGE_AT_START.match(indicator) and not counted):
        return "growth"
    if unit in RATE_UNITS:
        return "growth" if _GROWTH_NAME.search(indicator) or _RATE_NAME.search(indicator) or after_growth else "level"
    if counted and _PER_HEAD.search(indicator):
        return "level"  # 每万人口发明专利拥有量50.2件: a ratio, not a count
    return "count" if counted else "level"


def _context_period(context: str) -> str:
    """A part-of-year period named by a report's title or heading (2017已过半 -> 上半年)."""
    if re.search(r"上半年|已?过半|期中", context):
        return "上半年"
    m = re.search(r"前三季度|[一二三四]季度|\d{1,2}[~～\-—至到]\d{1,2}月", context)
    return m.group() if m else ""


def _name(own: str, noun: str, before: str, amount: _Amount) -> str:
    """The indicator of an amount from the phrase before it (``own``) and the
    noun phrase after it (``noun``)."""
    counted = _unit_kind(amount.unit, amount.bare) == "count"
    rate = amount.unit in RATE_UNITS + CHANGE_UNITS
    if noun and _REACHES.search(own):
        return noun  # 营养改善计划惠及3200万孩子, 惠及90%的在校生, 行业现行16%的税率
    if amount.bare and len(own) >= 2 and len(noun) <= 2 and not own.startswith("在"):
        return own  # 人均地区生产总值突破5万关口 (but 惠及500多万在校生)
    if len(noun) > 2 and (counted or not own or not rate):
        return noun  # 12个安置房项目, 30亿元国债资金
    if len(noun) == 2:
        if not own or (counted and not re.search(r"投入|安排|下达|拨付", own)):
            return noun  # 361个工地
        if not rate:
            return own + noun  # 中央财政拟投入420亿元资金
    if len(noun) == 1 and counted and not own and noun not in "至到和及与或等的了为在从由比":
        return noun  # 4个村的安全饮水工程: the counted noun, one character
    if len(own) > 1 or (own and before.strip().startswith(own)):
        return own  # 钢三千九百万吨, 钢增加了四百万吨: one character is a name only when it leads the phrase
    return ""


_SIMPLIFIED: dict[int, str] = {}  # Chinese character -> its simplified form, filled as characters are met
_TRADITIONAL_SEEN: set[str] = set()  # the characters met whose simplified form differs
_HAS_NUMBER = re.compile(r"\d|[一二两三四五六七八九十百千万亿]")
_NOT_A_SUBJECT = re.compile(r"在|为|对|随着|按照|根据|通过|同")
_COMPARATIVE = re.compile(r"(?:超过?|高于|低于|高出|快于|慢于)[^超高低快慢]*$")
_FROM = re.compile(r"(?:从|由)([^从由]*)$")
_FROM_FILLER = re.compile(r"的|预计|预期|计划|原定|\s")
_VERB_PHRASE = re.compile(rf"[{HAN}]{{2,16}}")
_GROWTH_AFTER = re.compile(r"的?(?:增长|增速|增幅)")
_THRESHOLD_NOUN = re.compile(r"(?:新的?)?(?:台阶|大关|关口|水平|目标|高点|规模)")
_HEADLESS = re.compile(r"的(?:有|是|为|达)$")
#: Measures named after a verb (人口自然增长率, 签约金额, 开行数量, 覆盖人数): the verb
#: does not end a name before them.
_MEASURE_WORD = r"率|量|额|值|人数|数量|金额|总额|面积|规模|能力|经费|资金|水平|指数|比重"
#: Verbs whose agent or beneficiary comes before them and what is counted after.
_AGENT_ACTS = re.compile(rf"(?:开通|新引进|引进|形成|汇集|承接|培养|解决|新签约|签约|新发放|发放|新接入|接入|开行|推进|拥有|增设|新增加|缔结|提取|延续执行|实施|吸引)"
                         rf"(?!项目|出来|成交|服务|和|及|与|{_MEASURE_WORD})(?=[{HAN}]{{2}})")  # (签约金额: a measure)
_LEVEL_RATE = re.compile(r"(?:率|比重|比例|占比)$")  # a rate that is a level (城镇化率), not a rate of change
_PER_UNIT = re.compile(r"每[十百千万]*(?:人口?|户)$")  # 每百户拥有家用汽车: a ratio keeps its owner
_BARE_SETTING = re.compile(r"在(?![校岗职建读线册途运营编粤京沪])(?:[^在]{1,5}|[^在]{1,10}基础上)")  # (but 在京生产新能源汽车)
_INVESTMENT = re.compile(r"(?:计划)?(?:总)?投资")
_TIMES_OF = re.compile(r"是[^是]{1,12}的$")
#: A change verb's 到/至/为 before a share: the level it reaches (扩大到全国50%的城市).
_REACHED = re.compile(r"(?:到|至|为)(?:全国|全省|全市)?$")
#: Before an amount, these make the noun after it what is counted or rated.
_REACHES = re.compile(r"(?:惠及|现行)$")
_QUOTE_CHARS = re.compile(r"[“”「」『』《》〈〉\"]")


def _simplified(text: str) -> str:
    """Traditional characters read as simplified (增長 -> 增长), so that one grammar serves all."""
    chars = set(text)
    new = [ch for ch in chars if ord(ch) not in _SIMPLIFIED and HAN_RE.match(ch)]
    if new:
        for ch in new:
            simple = normalize_text(ch)
            _SIMPLIFIED[ord(ch)] = simple if len(simple) == 1 else ch
            if _SIMPLIFIED[ord(ch)] != ch:
                _TRADITIONAL_SEEN.add(ch)
    if chars & _TRADITIONAL_SEEN:
        return text.translate(_SIMPLIFIED)
    return text


def extract_figures(text: str, *, year: int | None = None, passage_id: str = "", doc_id: str = "",
                    context: str = "") -> list[Figure]:
    """Every figure in ``text`` (full-width digits, Chinese numerals and ``**bold**`` allowed).

    ``context`` is the title or heading the text sits under: a part of the
    year it names (上半年, 2017已过半, 前三季度) becomes the period of the
    figures whose sentence names none.

    >>> [(f.indicator, f.period) for f in extract_figures("地区生产总值完成253亿元", context="2017已过半")]
    [('地区生产总值', '上半年')]
    """
    default_period = _context_period(context) if context else ""
    figures: list[Figure] = []
    for sentence in _SENTENCE.split(_simplified(_prepare(text))):
        if _HAS_NUMBER.search(sentence):
            figures.extend(_sentence_figures(sentence, default_period, year, passage_id, doc_id))
    return figures


def _sentence_figures(sentence: str, default_period: str, year, passage_id: str, doc_id: str) -> list[Figure]:
    written = sentence  # the clauses as written, for ``text``
    sentence = _PARENS.sub(lambda m: _CLAUSE_BREAKS.sub("、", m.group()), sentence)  # 机床（不包括简易机床，下同）增加了
    quoted = _quoted(sentence) if _QUOTE_CHARS.search(sentence) else [False] * len(sentence)
    periods = None
    figures: list[Figure] = []
    last_indicator = ""  # the name of the figure before
    topic_clauses: list[str] = []  # the clauses without a figure: a subject on its own?
    last_rate = False
    for clause_match in _CLAUSE.finditer(sentence):
        clause, offset = clause_match.group(), clause_match.start()
        amounts = _amounts(clause, quoted[offset: offset + len(clause)])
        if not amounts:
            topic_clauses.append(clause)
            continue
        if periods is None:
            periods = _periods(sentence)
        group = _distribution(clause, amounts)
        prev_end = 0
        for i, amount in enumerate(amounts):
            before = clause[prev_end: amount.start].rstrip()  # 分别下降 9.66%: a space is no word
            if amount.prefix and before.endswith(amount.prefix):
                before = before[: -len(amount.prefix)].rstrip()
            own, rate = _indicator(before)
            cut = _COMPARATIVE.search(own) if amount.unit in CHANGE_UNITS else None
            if cut and cut.start() >= 2:
                own = own[: cut.start()]  # 优良水体比例超国家考核目标14.8个百分点
            following = amounts[i + 1].start if i + 1 < len(amounts) else None
            noun = _noun_after(clause, amount.end, amount.unit, following)
            if following is not None:
                noun = _PREFIX.sub("", noun)
            named_before = bool(last_indicator or topic_clauses)
            if named_before and amount.unit == "倍" and _TIMES_OF.search(before):
                own = ""  # 托育机构达到1277个、是五年前的3.6倍: the subject is that many times the base
            if named_before and (_HEADLESS.search(before) or _BARE_SETTING.fullmatch(own)):
                own = ""  # 可以建设完工的有五十二个; 工业总产值，在五年计划的前三年共增加了177亿元: the subject before
            if (amount.unit in RATE_UNITS and clause.startswith("的", amount.end) and len(noun) >= 2
                    and not _MEASURE_HEAD.search(own) and not _CHANGE_AT_END.search(before)
                    and not _REACHED.search(before)):
                own = ""  # 团结百分之九十五以上的干部和群众, 实现7%左右的增长速度: the share of what follows
            if _INVESTMENT.fullmatch(own) and clause.startswith("的", amount.end):
                noun = ""  # 总投资30亿元的商贸综合体项目: the investment of the project
            indicator = _name(own, noun, before, amount)
            if _PLACE.fullmatch(indicator) and _unit_kind(amount.unit, amount.bare) != "count":
                indicator = ""  # 人口自然增长率，四川省由千分之二十九降到…: a place measures nothing
            object_after = bool(noun) and indicator.endswith(noun) and i not in group
            if not indicator and not before.strip() and _unit_kind(amount.unit, amount.bare) == "count":
                verb = _VERB_PHRASE.match(_QUOTES.sub("", clause[amount.end:]))
                indicator = verb.group() if verb else ""  # 12人入选国家高层次人才
            goes_on = False  # 增长7%以上、力争达到8%: the same growth again
            if not indicator:
                goes_on = (bool(figures) and figures[-1].kind == "growth" and figures[-1].unit == amount.unit == "%"
                           and not _LEVEL_RATE.search(last_indicator) and "占" not in before
                           and not _strip(before.strip("、，, ")))
                indicator, rate = ((last_indicator, rate or last_rate) if last_indicator
                                   else (_topic(topic_clauses), rate))
            if own.startswith("占") and indicator == own and (last_indicator or _topic(topic_clauses)):
                indicator = (last_indicator or _topic(topic_clauses)) + own  # 完成投资94.3亿元，占年度计划的48.7%
            kind_before = before
            if i in group:  # 分别: the names and the verb come before the first amount
                name, rate, kind_before = group[i]
                earlier = list(dict.fromkeys(f.indicator for f in figures))[-len(group):]
                if not name and len(earlier) != len(group):  # A、B和C再次提高，月人均分别提高x、y和z
                    subject = _before_verb(_QUOTES.sub("", topic_clauses[-1])) if topic_clauses else ""
                    earlier = [_indicator(m)[0] for m in _members(subject, len(group))]
                if not name and len(earlier) == len(group):
                    name = earlier[sorted(group).index(i)]
                indicator = name or indicator
            period = _period_of(periods, offset + amount.start, offset + prev_end,
                                is_from=_is_from(before) and i + 1 < len(amounts))
            prev_start, prev_end = prev_end, amount.end
            if not indicator:
                continue
            kind = _kind(amount, kind_before, indicator, rate or goes_on, object_after,
                         after_growth=bool(_GROWTH_AFTER.match(clause, amount.end)))
            sharers = _sharers(clause, amounts, i, prev_start) if i not in group else []
            for name in sharers or [indicator]:
                figures.append(Figure(
                    indicator=name, value=amount.value, unit=amount.unit, kind=kind,
                    period=period or default_period, text=written[offset: offset + len(clause)].strip(), year=year,
                    passage_id=passage_id, doc_id=doc_id, approx=amount.approx, high=amount.high,
                ))
            last_indicator, last_rate = indicator, rate
    return figures


_EACH = re.compile(r"分别|(?<![人户平年])均|都(?![市会])")


def _sharers(clause: str, amounts: list[_Amount], i: int, since: int) -> list[str]:
    """The names one amount belongs to when an enumeration shares it
    (化学需氧量、氨氮排放量要分别下降2%, 湿地保护率和草原植被盖度均达50%以上)."""
    each = list(_EACH.finditer(clause, since, amounts[i].start))
    if not each or any(a.start > each[-1].start() for a in amounts[i + 1:]):
        return []
    names = [_indicator(m)[0] for m in _members(_subject(clause[since: each[-1].start()]))]
    return names if all(names) else []


def _topic(clauses: list[str]) -> str:
    """The last clause without a figure that names a subject for those after it
    (农村居民人均纯收入，考虑价格下降因素，比上年实际增长4.3%)."""
    for clause in reversed(clauses):
        name = _before_verb(_indicator(clause)[0])  # 首届免费师范生全部到中小学任教 -> 首届免费师范生
        if 1 < len(name) <= 20 and not _NOT_A_SUBJECT.match(name):
            return name
    return ""


_SPENT_ON = re.compile(r"的(?:投入|支出|资金|经费|投资|比重)$")
_MEASURE_AFTER_VERB = re.compile(_MEASURE_WORD)


def _before_verb(phrase: str) -> str:
    """``phrase`` up to its first verb after two characters (环卫工人工资再次提高 -> 环卫工人工资)."""
    verb = next((m for m in _NOUN_END.finditer(phrase)
                 if len(m.group()) > 1 and m.start() >= 2 and not _MEASURE_AFTER_VERB.match(phrase, m.end())
                 and not _SPENT_ON.search(phrase, m.end()) and not _SPENT_ON.search(phrase, m.start() - 1)),
                None)  # (but 人口自然增长率, 工业增加值, 用于教育的投入: a measure named after its verb)
    return phrase[: verb.start()] if verb else phrase


def _is_from(before: str) -> bool:
    """Whether the amount after ``before`` starts a from-to (从去年的2.1%, 由上年46亿元)."""
    m = _FROM.search(before)
    return bool(m) and _FROM_FILLER.sub("", _PERIOD.sub("", m.group(1))) == ""


def _period_of(periods: list, start: int, since: int, is_from: bool) -> str:
    """The period in force at ``start``: the last one before it, a base of
    comparison or a from-period of an earlier figure left aside; a from-figure
    takes the period written after its 从/由."""
    period = ""
    for p_start, p_end, p_text, role in periods:
        if p_end > start:
            break
        if role == "" or (role == "from" and is_from and p_start >= since):
            period = p_text
    return period


def _words(phrase: str) -> list[str]:
    """``phrase`` cut into dictionary words (多晶硅产量 -> 多晶硅, 产量)."""
    from .dictionary import full_segmenter

    return full_segmenter().cut(phrase)


def _shared_head(part: str, last: str) -> str:
    """The head noun ``last`` shares with ``part``: 高技术制造业、装备制造业增加值 ->
    增加值; 水利、能源投资 -> 投资; 钢材、多晶硅产量 -> 产量; none for 发热门诊、核酸检测机构."""
    for k in range(len(part), 1, -1):  # the longest end of ``part`` that ``last`` has before its head
        at = last.find(part[-k:])
        if at >= 0 and len(last) - at - k >= 2:
            return last[at + k:]
    from .dictionary import full_segmenter

    words = _words(last)
    if len(part) <= 2 and len(last) > len(part) + 1 and (
            len(words[0]) == len(part) or part + words[0][len(part):] in full_segmenter()):
        return last[len(part):]  # 城镇、农村居民人均可支配收入: 城镇 stands for 农村 (城镇居民 is a word)
    if len(words) > 2 and len(words[-1]) == 1:
        words = words[:-2] + [words[-2] + words[-1]]  # 污水, 治理, 率: the head is 治理率
    if len(words) > 1 and len(words[-1]) >= 2 and (len(part) <= 3 or (
            _MEASURE_HEAD.search(words[-1]) and not _MEASURE_HEAD.search(part))):
        return words[-1]  # 钢材、电解铜、多晶硅产量 -> 产量; 城市污水、医疗废物处理率 -> 处理率
    return ""


#: Heads that name a measure, which a member of a list cannot do without (城市污水、…处理率).
_MEASURE_HEAD = re.compile(r"(?:率|量|额|值|数|度|面积|规模|收入|投资|产值|比重|价格|指数|支出|资金)$")


def _subject(text: str) -> str:
    """The words before 分别, 均 or 都 as a subject: no quotes, periods or
    function words, and only what follows a colon."""
    text = re.sub(r"(?:环比|同比)(?:、|和|及)(?:环比|同比)$", "", text)  # 销售面积环比、同比分别增长: bases, not members
    return _strip(_PERIOD.sub("", re.split(r"[:：]", _QUOTES.sub("", text))[-1]))


#: What separates the members of an enumeration (but not 普及率, 参与, 和谐, 共和国).
_MEMBER_SEP = re.compile(r"、|以及|(?<![共温缓调平])和(?![谐平])|(?<![参给])与|(?<![普涉危波惠顾触论提以])及(?![时格])")


def _members(subject: str, count: int | None = None) -> list[str]:
    """The names an enumeration stands for (``count`` of them: all by default),
    each with the head noun it shares (水利、能源投资 -> 水利投资, 能源投资), repeated
    when the amounts go round it more than once (分别从202元、270元提高到209元、280元);
    none when they do not fit."""
    parts = [p for p in _MEMBER_SEP.split(subject) if p]
    count = len(parts) if count is None else count
    if len(parts) < 2 or count % len(parts):
        return []
    parts = [p + _shared_head(p, parts[-1]) for p in parts[:-1]] + parts[-1:]
    return parts * (count // len(parts))


def _distribution(clause: str, amounts: list[_Amount]) -> dict[int, tuple[str, bool, str]]:
    """分别: ``A、B和C分别增加到X、Y和Z`` gives A to X, B to Y, C to Z.

    Returns, for each amount after 分别, its name, whether the name said it
    is a rate of change, and the words between 分别 and the first amount.
    """
    at = clause.find("分别")
    members = [i for i, a in enumerate(amounts) if a.start > at] if at >= 0 else []
    if at < 0:
        return _listed(clause, amounts)
    if len(members) < 2:
        return {}
    earlier = [a for a in amounts if a.start < at]
    subject = _subject(clause[earlier[-1].end if earlier else 0: at])
    parts = _members(subject, len(members)) or [subject] * len(members)
    verb = clause[at: amounts[members[0]].start].rstrip()
    shared = amounts[members[-1]].approx
    out = {}
    for i, part in zip(members, parts):
        name, rate = _indicator(part)
        out[i] = (name, rate, verb)  # no name: those of the figures before (A达到X，B达到Y，分别增长p和q)
        if not amounts[i].approx and shared in ("以内", "以上", "左右", "以下"):
            amounts[i].approx = shared
    return out


def _listed(clause: str, amounts: list[_Amount]) -> dict[int, tuple[str, bool, str]]:
    """分别 unwritten: amounts of one unit listed after one verb
    (``A和B实际增长8.4%和11.4%``, ``A15781元，B4761元，增长8.4%和8%``) go
    round the names before them as :func:`_distribution` has them; with one
    name and no list of names, they all take it and the first one's verb.
    """
    run = [0]
    for k in range(1, len(amounts)):
        joined = _LIST_JOINER.fullmatch(clause[amounts[k - 1].end: amounts[k].start])
        if joined and amounts[k].unit == amounts[run[-1]].unit and run[-1] == k - 1:
            run.append(k)
        elif len(run) < 2:
            run = [k]
    last = amounts[run[-1]]
    if len(run) < 2 or _noun_after(clause, last.end, last.unit, None):
        return {}  # 出台43条、16条具体举措: the noun after names them all
    start = amounts[run[0] - 1].end if run[0] else 0
    before = clause[start: amounts[run[0]].start].rstrip()
    own, rate = _indicator(before)
    parts = _members(own, len(run)) or [own] * len(run)
    return {i: (_indicator(part)[0] if part != own else own, rate, before) for i, part in zip(run, parts)}


_LIST_JOINER = re.compile(r"、|和|及|与|以及")


def matches(indicator: str, query_forms: list[str]) -> bool:
    """Whether a figure's indicator names what the user asked for (any synonym form).

    The indicator must be the asked-for name itself, with at most a place or
    scope word before it (全省, 海拉尔区, 全社会): a qualifier (人均, 单位) or a
    ratio (占…比重) makes it a different indicator.

    >>> matches("全省地区生产总值", ["gdp", "地区生产总值"]), matches("人均地区生产总值", ["地区生产总值"])
    (True, False)
    >>> matches("服务业增加值占地区生产总值比重", ["地区生产总值"])
    False
    """
    forms = {name_key(f) for f in query_forms} - {""}
    return any(key in forms for key in match_keys(indicator))


def asked_names(name: str) -> list[tuple[str, str | None]]:
    """The names a figure may have to answer a user asking for ``name``, each
    with the kind it must then be: ``name`` and its synonyms, of any kind, and
    for a rate of change (居民消费价格涨幅, 工业增加值增速) the measure it is the
    growth of, which is how extraction names it.

    >>> asked_names("居民消费价格涨幅")
    [('居民消费价格涨幅', None), ('居民消费价格', 'growth'), ('cpi', 'growth')]
    >>> [form for form, kind in asked_names("经济增速")]
    ['经济增速', '经济', '经济增长', '经济增长速度']
    """
    from .analysis import synonym_classes

    key = normalize_text(name).strip()
    asked = [(form, None) for form in [key, *synonym_classes().get(key, ())]]
    rate = _RATE_OF_CHANGE.search(key) or _GROWTH_ASKED.search(key)
    if rate and rate.start() >= 2:
        measure = key[: rate.start()]
        forms = [measure, *synonym_classes().get(measure, ())]
        if _ECONOMY.fullmatch(measure):
            forms += [measure + growth for growth in ("增长", "增长速度", "增速")]  # how the economy's is named
        asked += [(form, "growth") for form in forms if form != key]
    return asked


_GROWTH_ASKED = re.compile(r"增长$")  # 粮食产量增长: asked for, the growth of 粮食产量


def match_keys(indicator: str) -> list[str]:
    """The names an indicator answers to (:func:`matches`): itself, cleaned,
    then without each of up to three leading place or scope words.

    >>> match_keys("全省地区生产总值")
    ['全省地区生产总值', '地区生产总值']
    """
    return _scope_keys(name_key(indicator))


def match_keys_of(indicators: list[str]) -> dict[str, list[str]]:
    """:func:`match_keys` of many names at once (the names normalised in one
    pass: twice as fast on the 100,000 figures of a large index).

    >>> match_keys_of(["全省地区生产总值", "GDP"])
    {'全省地区生产总值': ['全省地区生产总值', '地区生产总值'], 'GDP': ['gdp']}
    """
    unique = list(dict.fromkeys(indicators))
    normalised = normalize_text("\n".join(unique)).split("\n")  # one character at a time: lines stay lines
    if len(normalised) != len(unique):  # a name with a line break in it
        return {name: match_keys(name) for name in unique}
    return {name: _scope_keys(_NOT_A_WORD.sub("", norm)) for name, norm in zip(unique, normalised)}


def _scope_keys(name: str) -> list[str]:
    keys = [name]
    for _ in range(3):
        shorter = _SCOPE.sub("", name)
        if shorter == name or not shorter:
            break
        keys.append(shorter)
        name = shorter
    if (acted := _ACTED.sub("", name)) != name:
        keys.append(acted)  # 改造老旧小区 answers to 老旧小区, 新建改建农村公路 to 农村公路
    return keys


@lru_cache(maxsize=65536)
def name_key(text: str) -> str:
    """A name as :func:`match_keys` compares names: normalised, punctuation
    dropped (``GDP`` -> ``gdp``)."""
    return _NOT_A_WORD.sub("", normalize_text(text))


_NOT_A_WORD = re.compile(r"[\W_]")


#: A place on its own (四川省, 上海市, 宁夏回族自治区), not a city in general (城市, 重要城市).
_PLACE = re.compile(rf"[{HAN}]{{2,6}}?(?:自治区|自治州|省|(?<!城)市|县)")
#: A verb of action before what it acts on, which a name may lead with (改造老旧小区, 新建改建农村公路).
_ACTED = re.compile(rf"^(?:{_ACTION}|新改建|改建|改造|提质改造|建设改造|开工建设|建设(?!用地|项目))"
                    r"(?:和|及|或)?(?:新建|改建|扩建|改造|提升|升级)*"
                    rf"(?=[{HAN}]{{2}})")
#: Place and scope words that do not change what an indicator measures.
_SCOPE = re.compile(
    r"^(?:全国(?!性)|全省|全市|全区|全县|全州|全盟|全旗|全疆|全镇|全乡|全社会|我国|我省|我市|我区|我县|本省|本市|本区|本县|"
    rf"[{HAN}]{{2,6}}?(?:自治区|自治州|省(?![级份区市会])|(?<![城上超都门股])市(?![场民级])|(?<![贫点])县(?![域级城区])|盟|旗|"
    r"(?<![地社园城郊景灾牧林矿库山小灌片展产验税发务制护贸范户街])区(?![域间内级块位])))"
)  # (but 市场, 区域, 省级, 县域, 城市, 上市, 小区, 棚户区, 开发区, 脱贫县 ... are words, not places)
