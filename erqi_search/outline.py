"""Lines -> outline: which lines of a plain-text report are headings, at
which level, and what is front matter (title, dateline, byline).

Scraped reports carry debris: link texts and page breaks split sentences
onto their own lines, bylines sit above the salutation, enumerations and
lead sentences look like outline numbers. So a line is judged in context,
after its layout has been repaired:

* R0 ``normalize_line``: spaces unified; a line of zero-width spaces is a
  page-break marker (:data:`PAGE_BREAK`), not text.
* R2 ``logical_lines``: lines that continue a sentence are joined first: a
  bare label (``一是``), a line opening or closing a quote or title
  (``《`` / ``》``), a page break inside a sentence, a line glued by a single
  newline in a file whose paragraphs are separated by blank lines, and a
  heading broken over two lines.
* R3 ``mark_front_matter``: what precedes the salutation (``各位代表：``) is
  title, dateline and byline: never a heading; the byline names the speaker.
* R4/R5/R6 ``mark_headings``: numbered headings (``一、``, ``（一）``, ``第一，``,
  ``1.``, ``第一章``, ``附件1``) are short, standalone, not one of a run of
  list items; unnumbered ones are short, unpunctuated and stand outside a
  sentence's flow; lead sentences (``一是…。``) are not headings.
* R7 ``assign_levels``: a style's level is fixed where it first appears,
  one below the heading that is open there; back matter (``结束语``,
  ``附件``) opens a new scope.
* R8 ``heading_label``: how a heading reads in a section path.

Explicit markup keeps its own rank (:func:`classify_line`): markdown
``#`` headings, ``【…】`` banners and ``关键词:`` headings.

>>> lines, speaker = structure(["政府工作报告", "国务院总理 李强", "各位代表：", "", "一、工作回顾",
...                             "过去一年，经济回升向好。", "（一）稳增长。", "多措并举稳定增长。"])
>>> speaker, [(x.kind, x.rank, x.text) for x in lines if x.kind != "para"]
('李强', [('front', 0, '政府工作报告'), ('front', 0, '国务院总理 李强'), ('heading', 21, '一、工作回顾'), ('heading', 22, '（一）稳增长。')])
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Block
from .text import CLAUSE_PUNCT, FULL_WIDTH_DIGITS, HAN, HAN_RE, SENTENCE_END

#: A line of zero-width spaces only: a page break of the source PDF.
PAGE_BREAK = "\u200b"
#: Zero-width characters and the BOM: removed from lines.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff]")
OPENERS = "《「『“‘（(【"
CLOSERS = "”’」』)）】》"
#: A line starting with one of these continues the line before it.
CONTINUING = CLOSERS + SENTENCE_END + CLAUSE_PUNCT
HEADING_PUNCT = set(SENTENCE_END + CLAUSE_PUNCT)
#: Longest numbered heading (a few real ones reach 45 characters).
NUMBERED_MAX = 50
#: Longest unnumbered heading.
PLAIN_MAX = 25
#: Blank-separated layout: at least this share of gaps between lines is blank.
BLANK_SEPARATED = 0.3
#: The salutation is looked for in this many first logical lines.
FRONT_MAX = 8
#: Inferred levels have rank ``INFERRED + level``: below markdown (1-6) and
#: banners (10), above ``关键词:`` headings (50).
INFERRED = 20

_N = "一二三四五六七八九十"
#: Outline styles: the numbering that starts a heading line.
STYLES = [
    ("part", re.compile(rf"^第[{_N}百零〇两\d]+编(\s|$)")),
    ("chapter", re.compile(rf"^第[{_N}百零〇两\d]+章(\s|$)")),
    ("section", re.compile(rf"^第[{_N}百零〇两\d]+节(\s|$)")),
    ("cn", re.compile(rf"^[{_N}]+、\s*(?=\S)")),
    ("paren", re.compile(rf"^[（(][{_N}]+[）)]\s*(?=\S)")),
    ("ordinal", re.compile(rf"^第[{_N}]+[，、,](?=\S)")),
    ("num3", re.compile(r"^\d{1,2}[.．]\d{1,2}[.．]\d{1,2}(?:[.．、]|\s)\s*(?=[^\d\s.．])")),
    ("num2", re.compile(r"^\d{1,2}[.．]\d{1,2}(?:[.．、]|\s)\s*(?=[^\d\s.．])")),
    ("num", re.compile(r"^\d{1,2}(?:[.．、]|\s)\s*(?=[^\d\s.．])")),
    ("appendix", re.compile(r"^附\s*[件表录]\s*\d*(\s+\S.*)?$")),
]
_STYLE_RE = dict(STYLES)
#: Styles that number an outline of their own (chapters, appendices): they
#: need not start at one.
_FREE_START = {"part", "chapter", "section", "appendix"}
_BARE_LABEL = re.compile(rf"^(第?[{_N}]+[是要、，,]|[（(][{_N}]+[）)])$")
_BACK_MATTER = re.compile(r"^(结束语|名词解释|名词注释|附\s*[件表录]\s*\d*(\s+\S.*)?|注释|说明)$")
_SALUTATION = re.compile(r"(各位代表|各位委员|同志们)[：:！!]?$")
_ALLOWED_DIGITS = re.compile(r"(?<!\d)(19|20)\d\d年?(?!\d)|\d+(件|项|个|条|大|张)|^附\s*[件表录]\s*\d+")

# -------------------------------------------------------- explicit markup

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_BANNER = re.compile(r"^【[^】]{1,30}】$")
_KEYWORD = re.compile(r"^关键词\s*[:：]\s*(.+)$")
_LIST_ITEM = re.compile(r"^[-*+•·]\s+")
#: A newspaper credit line: 记者 …, 通讯员 …, … /文.
CREDIT = re.compile(r"^(记者|通讯员|摄影|编辑|责任编辑|来源)\s|/[文图]$")
_MARKUP = [
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\*\*|__|~~|`"), ""),
]
#: Ranks of explicitly marked headings.
RANK = {"banner": 10, "keyword": 50}


def strip_markup(line: str) -> str:
    """Remove inline markdown: ``**253亿元**`` -> ``253亿元``.

    >>> strip_markup("完成**253亿元**,见[附表](a.html)")
    '完成253亿元,见附表'
    """
    for pattern, repl in _MARKUP:
        line = pattern.sub(repl, line)
    return line.strip()


def classify_line(line: str, markdown: bool = True) -> Block:
    """The line-local first guess: explicit markup (a markdown heading, a
    ``【…】`` banner, a ``关键词:`` heading, a list item) or a paragraph,
    which :func:`mark_headings` may turn into a heading in context.

    >>> classify_line("关键词:大气污染防治")
    Block(kind='heading', text='关键词:大气污染防治', rank=50, keyword='大气污染防治')
    >>> classify_line("## 坚持稳中求进").rank
    2
    >>> classify_line("- 地区生产总值增长9%左右")
    Block(kind='item', text='地区生产总值增长9%左右', rank=0, keyword='')
    >>> classify_line("一、工作回顾").kind
    'para'
    """
    m = _MD_HEADING.match(line) if markdown else None
    if m:
        return Block("heading", strip_markup(m.group(2)), len(m.group(1)))
    text = strip_markup(line)
    if _LIST_ITEM.match(text):
        return Block("item", _LIST_ITEM.sub("", text))
    m = _KEYWORD.match(text)
    if m and len(text) <= 40:
        return Block("heading", text, RANK["keyword"], keyword=m.group(1).strip())
    if _BANNER.match(text):
        return Block("heading", text, RANK["banner"])
    return Block("para", text)


# ------------------------------------------------------------ line shapes

def normalize_line(raw: str) -> str:
    """R0: a line with ideographic and no-break spaces made plain, runs of
    spaces collapsed, BOM and zero-width spaces removed; a line of
    zero-width spaces only becomes :data:`PAGE_BREAK`.

    >>> normalize_line("\\u3000\\u3000上海市市长\\u3000龚 正 "), normalize_line("\\u200b") == PAGE_BREAK
    ('上海市市长 龚 正', True)
    """
    line = _INVISIBLE.sub("", raw) if _INVISIBLE.search(raw) else raw
    line = " ".join(line.split())  # split() splits at ideographic and no-break spaces too
    return PAGE_BREAK if not line and "\u200b" in raw else line


def outline_style(text: str) -> str | None:
    """The outline numbering a line starts with, or ``None``.

    >>> outline_style("（三）进一步释放国内需求潜力。"), outline_style("2.5"), outline_style("第一章 总则")
    ('paren', None, 'chapter')
    """
    for name, pattern in STYLES:
        if pattern.match(text):
            return name
    return None


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends a sentence (closing quotes aside)."""
    text = text.rstrip(CLOSERS)
    return bool(text) and text[-1] in SENTENCE_END


def ordinal(text: str) -> int | None:
    """The number of an outline label: ``一、`` 1, ``（十二）`` 12, ``3.2`` 2.

    >>> ordinal("（十二）"), ordinal("二十一、"), ordinal("3.2 标题"), ordinal("甲")
    (12, 21, 2, None)
    """
    m = re.match(r"^\d{1,2}(?:[.．]\d{1,2})+", text)
    if m:
        return int(re.split(r"[.．]", m.group(0))[-1])
    m = re.match(rf"^(?:第|[（(])?([{_N}]+|\d+)", text)
    if not m:
        return None
    s = m.group(1)
    if s.isdigit():
        return int(s)
    if "十" not in s:
        return _N.index(s) + 1 if len(s) == 1 else None
    tens, _, units = s.partition("十")
    return (_N.index(tens) + 1 if tens else 1) * 10 + (_N.index(units) + 1 if units else 0)


# ------------------------------------------------------------ bylines

_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_OFFICE = r"(?:国务院)?(?:总理|副总理|国务委员|(?:代理|代|副)?(?:主席|省长|市长|区长|县长|州长|旗长|盟长|主任|书记))"
_ORG = rf"(?:[{HAN}]{{0,16}}(?:省|市|区|县|州|旗|盟|自治区|人民政府|国务院|共和国|委员会兼|委员会))?"
_NAME = rf"(?P<name>[{HAN}]\s?[{HAN}]{{1,3}}|[{HAN}]{{2,8}}·[{HAN}]{{2,8}})"
_BYLINE = re.compile(rf"^{_ORG}{_OFFICE}(?P<sep>\s*){_NAME}$")
#: An office and a name inside a dateline: ``——2025年1月16日省长 李乐成在…``,
#: ``…会议上北京市市长 殷勇同志作政府工作报告``, ``2025年1月15日龚正市长在…``.
_DATELINE_BYLINE = [
    re.compile(rf"[日上]{_ORG}{_OFFICE}\s*(?P<name>[{HAN}]{{2,3}})(?=同志|在|作|。|$)"),
    re.compile(rf"日(?P<name>[{HAN}]{{2,3}}){_OFFICE}在"),
]
_LONE_NAME = re.compile(rf"[{HAN}]\s?[{HAN}]{{1,2}}")


def byline_name(text: str) -> str:
    """The person a byline or signature names (an office title then a name),
    spaces removed; ``""`` if ``text`` is not one.

    >>> byline_name("上海市市长 龚 正"), byline_name("国务院总理李鹏"), byline_name("自治区主席 艾尔肯·吐尼亚孜")
    ('龚正', '李鹏', '艾尔肯·吐尼亚孜')
    >>> byline_name("韩国最大在野党提请国会弹劾总理韩德洙"), byline_name("一、省长工作")
    ('', '')
    """
    if len(text) > 30 or outline_style(text):
        return ""
    m = _BYLINE.match(text)
    if not m:
        return ""
    name = m.group("name").replace(" ", "")
    if "·" in name or (m.group("sep") and len(name) <= 4) or (name[0] in _SURNAMES and len(name) <= 3):
        return name
    return ""


def dateline_name(text: str) -> str:
    """The speaker a dateline names, or ``""``.

    >>> dateline_name("2025年1月14日在天津市第十八届人民代表大会第三次会议上天津市市长张工同志作政府工作报告。")
    '张工'
    >>> dateline_name("----2025年1月15日龚正市长在上海市第十六届人民代表大会第三次会议的政府工作报告")
    '龚正'
    """
    for pattern in _DATELINE_BYLINE:
        m = pattern.search(text)
        if m and m.group("name")[0] in _SURNAMES:
            return m.group("name")
    return ""


# ------------------------------------------------------------ logical lines

@dataclass
class Line:
    """A logical line of a report (source lines joined where a sentence
    continued) with its layout and, once classified, its role.

    ``kind`` is ``para``, ``heading``, ``item`` or ``front`` (title,
    dateline or byline before the salutation); ``style`` is a heading's
    outline style; ``rank`` orders headings as :class:`Block` ranks do.
    """

    text: str
    kind: str = "para"
    style: str = ""
    rank: int = 0
    keyword: str = ""
    blank_before: bool = True
    blank_after: bool = True
    marked: bool = False  # explicit markup or a credit line: never joined, never re-classified

    def block(self) -> Block:
        kind = "para" if self.kind == "front" else self.kind
        return Block(kind, self.text, self.rank if kind == "heading" else 0, self.keyword)


def _join(a: str, b: str) -> str:
    """Two pieces of one sentence; a space only between two Latin words.

    >>> _join("控制PM", "2.5浓度"), _join("Public", "domain")
    ('控制PM2.5浓度', 'Public domain')
    """
    words = a[-1:].isascii() and a[-1:].isalpha() and b[:1].isascii() and b[:1].isalpha()
    return a + (" " if words else "") + b


def _broken_heading(prev: str, text: str, following: str | None) -> bool:
    """``三、持续提升政府`` + ``治理效能和服务水平``: a short numbered heading
    continued by a short unpunctuated line, followed by a body paragraph."""
    if len(text) > 12 or len(prev + text) > NUMBERED_MAX or following is None or len(following) <= NUMBERED_MAX:
        return False
    label_free = re.sub(r"^\S{1,4}?[、）)]", "", prev) + text
    return outline_style(prev) in ("cn", "paren") and not HEADING_PUNCT & set(label_free) and not outline_style(text)


def logical_lines(raw: list, markdown: bool = True) -> tuple[list[Line], bool]:
    """R2: normalised source lines ("" for blank, :data:`PAGE_BREAK`) -> logical
    lines with their blank-line evidence, and whether the file separates its
    paragraphs by blank lines. An item that is a :class:`Block` is an
    explicit heading (an HTML ``<h2>``) and is kept as it is.

    >>> lines, blank_separated = logical_lines(["根据《", "农村人民公社工作条例（试行草案）", "》，", "",
    ...                                         "一是", "加强领导。", "", "要全面深化各领域改", PAGE_BREAK, "革。"])
    >>> [x.text for x in lines], blank_separated
    (['根据《农村人民公社工作条例（试行草案）》，', '一是加强领导。', '要全面深化各领域改革。'], True)
    """
    content = [i for i, line in enumerate(raw) if isinstance(line, Block) or line not in ("", PAGE_BREAK)]
    gaps = list(zip(content, content[1:]))
    blank = sum(1 for a, b in gaps if "" in raw[a + 1 : b])
    blank_separated = blank >= BLANK_SEPARATED * max(len(gaps), 1) and blank > 0
    out: list[Line] = []
    for k, i in enumerate(content):
        item = raw[i]
        between = raw[content[k - 1] + 1 : i] if k else []
        blank_before = k == 0 or "" in between
        if isinstance(item, Block):
            line = Line(item.text, item.kind, "markup", item.rank, item.keyword, marked=True)
        else:
            block = classify_line(item, markdown)
            marked = block.kind != "para" or bool(CREDIT.search(block.text))
            line = Line(block.text, block.kind, "markup" if block.kind == "heading" else "", block.rank,
                        block.keyword, marked=marked)
        if not line.text:
            continue
        if out and not out[-1].marked and not line.marked:
            prev = out[-1].text
            following = raw[content[k + 1]] if k + 1 < len(content) else None
            following = following.text if isinstance(following, Block) else following
            page_break = bool(between) and between[0] == PAGE_BREAK
            open_end = not ends_sentence(prev) and not prev.endswith(("：", ":"))
            if (_BARE_LABEL.match(prev)                                    # '一是' / '第一、' alone
                    or prev.endswith(tuple(OPENERS)) or line.text[0] in CONTINUING  # a quoted title split out
                    or (page_break and open_end)                           # a page break inside a sentence
                    or (blank_separated and not between and open_end       # glued by a single newline
                        and not (outline_style(prev) and len(prev) <= NUMBERED_MAX))
                    or ((not between or not blank_separated) and _broken_heading(prev, line.text, following))):
                out[-1].text = _join(prev, line.text)
                continue
        if out:
            out[-1].blank_after = blank_before
        line.blank_before = blank_before
        out.append(line)
    return out, blank_separated


# ------------------------------------------------------------ front matter

def mark_front_matter(lines: list[Line]) -> str:
    """R3: mark the lines before a salutation in the first :data:`FRONT_MAX`
    lines as front matter; return the speaker the byline names, or ``""``.

    >>> lines = [Line("2025年政府工作报告"), Line("省长 梁惠玲"), Line("各位代表："), Line("一年来……")]
    >>> mark_front_matter(lines), [x.kind for x in lines]
    ('梁惠玲', ['front', 'front', 'para', 'para'])
    """
    salutation = next((k for k, x in enumerate(lines[:FRONT_MAX]) if _SALUTATION.search(x.text)), None)
    if salutation is None:
        return ""
    speaker = ""
    for x in lines[:salutation]:
        if not x.marked:
            x.kind = "front"
        name = byline_name(x.text)  # lines above the salutation hold none of it
        if name:
            speaker = name
        elif _LONE_NAME.fullmatch(x.text) and x.text[0] in _SURNAMES:
            speaker = x.text.replace(" ", "")  # '周恩来' on its own line under the title
        elif not speaker:
            speaker = dateline_name(x.text)
    return speaker or byline_name(_SALUTATION.sub("", lines[salutation].text).strip())


# ------------------------------------------------------------ headings

def _numbered_heading(x: Line, prev: Line | None, nxt: Line | None, style: str, listed: bool) -> bool:
    """R4/R6: a numbered line is a heading if it is short, one phrase (a
    ``（一）`` heading may end with ``。``), not one of a run of list items,
    and a body follows."""
    t = x.text
    ends = [m.start() for m in re.finditer(r"[。！？!?；;]", t)]
    if len(t) > NUMBERED_MAX or t[-1] in CLAUSE_PUNCT + "；;" or len(ends) > 1 or nxt is None:
        return False
    if ends and (ends[0] != len(t.rstrip(CLOSERS)) - 1 or style != "paren" or "：" in t or ":" in t):
        return False  # '一、…。' '第一，…。' are list items or lead sentences
    if ends and listed and ordinal(t) != 1:
        return False  # a later item of an enumeration
    rest = _STYLE_RE[style].sub("", t)
    if style.startswith("num") and (HEADING_PUNCT & set(rest) or not re.search(f"[{HAN}]{{2}}", rest)):
        return False  # '2.5', '13.EFlops：…'
    same_prev = prev is not None and outline_style(prev.text) == style
    return not ((same_prev and prev.kind != "heading") or outline_style(nxt.text) == style)


def _plain_heading(x: Line, prev: Line | None, nxt: Line | None, blank_separated: bool) -> bool:
    """R5: an unnumbered heading is short, unpunctuated, has no figures but a
    year or a count, is no byline, and stands outside a sentence's flow:
    between blank lines where paragraphs are separated by blank lines, else
    after a sentence end (or a heading) and before a body paragraph (or a
    numbered line)."""
    t = x.text
    if not 2 <= len(t) <= PLAIN_MAX or HEADING_PUNCT & set(t) or not HAN_RE.search(t):
        return False
    if re.search(r"\d", _ALLOWED_DIGITS.sub("", t.translate(FULL_WIDTH_DIGITS))):
        return False
    if byline_name(t) or nxt is None or nxt.text[0] in CONTINUING:
        return False
    if blank_separated:
        return x.blank_before and x.blank_after and not (prev and prev.text.endswith(tuple(OPENERS)))
    after_sentence = (prev is None or prev.kind in ("heading", "front") or ends_sentence(prev.text)
                      or prev.text.endswith(("：", ":")) or bool(_SALUTATION.search(prev.text)))
    before_body = (ends_sentence(nxt.text) or nxt.text.endswith(("：", ":")) or bool(outline_style(nxt.text))
                   or bool(_BACK_MATTER.match(t)))
    return after_sentence and before_body


def mark_headings(lines: list[Line], blank_separated: bool) -> None:
    """R4-R6: mark the headings among the paragraphs, with their style (an
    unnumbered first line, where there is no front matter, is the title).

    >>> lines = [Line("（一）要增产。", blank_after=False), Line("（二）要节约。"), Line("正文。"),
    ...          Line("（一）稳增长。"), Line("多措并举稳定增长，扩大有效需求。")]
    >>> mark_headings(lines, False); [x.kind for x in lines]
    ['para', 'para', 'para', 'heading', 'para']
    """
    listed: dict[str, bool] = {}  # style -> its last line was a list item
    started: set[str] = set()
    for k, x in enumerate(lines):
        if x.kind != "para" or x.marked:
            continue
        prev = lines[k - 1] if k else None
        nxt = lines[k + 1] if k + 1 < len(lines) else None
        style = outline_style(x.text)
        if style:
            was_listed = listed.get(style, False)
            listed[style] = True
            if not _numbered_heading(x, prev, nxt, style, was_listed):
                continue
            if style not in _FREE_START and style not in started and (ordinal(x.text) or 1) > 1:
                continue  # an outline starts at one: a lone '（六）' is a leftover of a list
            started.add(style)
            x.kind, x.style = "heading", "back" if style == "appendix" else style
            listed = {style: False}  # a heading closes the enumerations of other styles
        elif _plain_heading(x, prev, nxt, blank_separated):
            x.kind, x.style = "heading", "back" if _BACK_MATTER.match(x.text) else "title" if k == 0 else "plain"


# ------------------------------------------------------------ levels

def assign_levels(lines: list[Line]) -> None:
    """R7: the rank of inferred headings. A style takes its level where it
    first appears, one below the innermost open heading, and keeps it; back
    matter is level 1 and starts afresh. Explicit markup keeps its rank.
    The title, and a lone unnumbered heading (the only one in its scope) that
    has a body of its own, such as ``首先报告2001年的工作``, do not own the
    outline after them: that outline starts at their level.

    >>> lines = [Line("报告", "heading", "title"), Line("总述", "heading", "plain"), Line("正文。"),
    ...          Line("一、甲", "heading", "cn"), Line("（一）乙", "heading", "paren"), Line("二、丙", "heading", "cn"),
    ...          Line("结束语", "heading", "back"), Line("一、丁", "heading", "cn")]
    >>> assign_levels(lines); [x.rank - INFERRED for x in lines if x.kind == "heading"]
    [1, 1, 1, 2, 1, 1, 2]
    """
    heads = [x for x in lines if x.kind == "heading"]
    position = {id(x): k for k, x in enumerate(lines)}
    scopes = [0]  # unnumbered headings per scope (back matter starts one)
    for x in heads:
        if x.style == "back":
            scopes.append(0)
        scopes[-1] += x.style == "plain"
    scope = 0
    level_of: dict[str, int] = {}
    stack: list[tuple[int, Line]] = []  # open headings: (rank, line)
    for x in heads:
        if x.style == "markup":
            rank = x.rank
        elif x.style == "back":
            level_of, rank, scope = {}, INFERRED + 1, scope + 1
        else:
            if x.style not in level_of:
                inner = next((h for r, h in reversed(stack) if h.style != "markup"), None)
                if inner is None:
                    level_of[x.style] = 1
                elif inner.style == "title" or (inner.style == "plain" and scopes[scope] == 1
                                                and position[id(x)] > position[id(inner)] + 1):
                    level_of[x.style] = inner.rank - INFERRED
                else:
                    level_of[x.style] = min(inner.rank - INFERRED + 1, RANK["keyword"] - INFERRED - 1)
            rank = INFERRED + level_of[x.style]
        x.rank = rank
        while stack and stack[-1][0] >= rank:
            stack.pop()
        stack.append((rank, x))


def heading_label(text: str) -> str:
    """R8: a heading as a section path shows it, without a final ``。``.

    >>> heading_label("（一）用改革的办法深入推进“三去一降一补”。")
    '（一）用改革的办法深入推进“三去一降一补”'
    """
    return text[:-1] if text.endswith("。") else text


def structure(raw: list, markdown: bool = True) -> tuple[list[Line], str]:
    """Normalised source lines -> classified logical lines and the speaker."""
    lines, blank_separated = logical_lines(raw, markdown)
    speaker = mark_front_matter(lines)
    mark_headings(lines, blank_separated)
    assign_levels(lines)
    return lines, speaker
