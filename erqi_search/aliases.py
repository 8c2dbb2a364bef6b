"""Aliases: the acronyms and short forms a corpus defines for itself, and a
curated table for what it does not define.

Policy text names its aliases in regular patterns: ``区域全面经济伙伴关系协定
（RCEP）`` (an acronym in brackets after its full name), ``（以下简称“一网通办”）``
and ``（简称“特岗计划”）`` (a short form after the full name). :func:`candidates`
finds them in a passage; :func:`mine` keeps a pair only when the corpus is
consistent about it: the same alias defined for the same full form at least
:data:`MIN_DEFINITIONS` times, and that full form at least
:data:`CONSISTENCY` of the time (a one-off bracket such as ``（见附件）`` or
``（2023）`` is never a pair). The curated table (``data/aliases_curated.tsv``,
from CC-CEDICT, CC BY-SA 4.0) adds acronyms and the short forms of bodies,
agreements, indicators and programmes.

A query term's aliases are forms of it, in both directions (a short form
that is part of its full form only from the short form to the full one),
weighted below the typed form (:data:`erqi_search.ranking.ALIAS_WEIGHT`).

>>> [(a, full) for a, full, _ in candidates("加入《区域全面经济伙伴关系协定》（RCEP），实施“一网通办”（以下简称“通办”）")]
[('rcep', '区域全面经济伙伴关系协定'), ('通办', '一网通办')]
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from .text import DATA, HAN, normalize_text

CURATED_FILE = DATA / "aliases_curated.tsv"
#: A pair must be defined this many times, and name the same full form
#: this share of the time the alias is defined.
MIN_DEFINITIONS = 2
CONSISTENCY = 0.6
#: Curated short forms of these categories are used; others (``高速`` for
#: 高速公路) are everyday words as often as aliases.
CURATED_CATEGORIES = {"org", "agreement", "indicator", "programme"}

#: Where an alias is defined: a bracket holding an acronym or ``(以下)简称``.
_DEFINITION = re.compile(
    rf"[（(](?:(?P<acronym>[A-Z][A-Za-z0-9&]{{1,11}})[）)]|(?:以下)?简称[“\"「]?(?P<short>[{HAN}A-Za-z0-9]{{2,12}})[”\"」]?[）)])"
)
_NAME_CHAR = re.compile(rf"[{HAN}《》“”]")
#: Leading words that are not part of a name (verbs and function words before it).
_LEAD = re.compile(
    r"^(?:加入|签署|推动|推进|实施|深化|参加|参与|利用|发挥|支持|落实|建立|设立|成立|开展|加强|完善|办好|办|用好|优化|"
    r"积极|全面|深入|扎实|推广|启动|举办|召开|出台|制定|修订|发布|按照|根据|依照|依据|通过|经过|关于|对于|同|与|和|及|在|对|由|向|为|把|将|从|以|的)+"
)


def candidates(text: str) -> list[tuple[str, str, str]]:
    """``(alias, full form, sentence)`` defined in ``text``, both normalised."""
    found = []
    for m in _DEFINITION.finditer(text):
        start = m.start()
        while start > max(0, m.start() - 40) and _NAME_CHAR.match(text, start - 1):
            start -= 1
        run = text[start : m.start()]
        if len(run) < 2:
            continue
        acronym, short = m.group("acronym"), m.group("short")
        if acronym and sum(ch.isupper() for ch in acronym) < 2:
            continue
        alias = acronym or short
        full = _full_before(run, "" if acronym else alias)
        if len(full) >= 2 and full != normalize_text(alias):
            found.append((normalize_text(alias), full, _sentence(text, m.start(), m.end())))
    return found


def _full_before(run: str, alias: str = "") -> str:
    """The full name ending a run of text: a ``《…》`` or ``“…”`` title if it
    ends with one, else (for a Chinese short form) the shortest end of the run
    that holds the alias's characters in order, else the whole run. Title
    marks are left out."""
    run = normalize_text(run)
    for opener, closer in (("《", "》"), ("“", "”")):
        if run.endswith(closer) and opener in run:
            return _plain(run[run.rindex(opener) + 1 : -1])
    run = _plain(run)
    if alias and all("\u3400" <= ch <= "\u9fff" for ch in alias):
        for start in range(len(run) - len(alias), -1, -1):
            if _subsequence(alias, run[start:]):
                return run[max(b for b in _word_starts(run) if b <= start):]
        return ""
    return run


def _word_starts(text: str) -> list[int]:
    """Where the words of ``text`` start (the build's segmentation)."""
    from .dictionary import full_segmenter

    return [s for s, _ in full_segmenter().spans(text)] if text else [0]


def _plain(name: str) -> str:
    return re.sub("[《》“”]", "", name)


def _subsequence(short: str, full: str) -> bool:
    chars = iter(full)
    return all(ch in chars for ch in short)


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(mark, 0, start) for mark in "。！？；\n") + 1
    right = min((i for i in (text.find(mark, end) for mark in "。！？；\n") if i >= 0), default=len(text))
    return text[left : right + 1].strip()[:160]


def mine(found: list[tuple[str, str, str, str]]) -> list[dict]:
    """The consistent pairs among ``(doc_id, alias, full, sentence)`` candidates:
    ``{"alias", "full", "count", "reports", "sample"}``, most reports first.

    The full form of an acronym is the longest end of its preceding text that
    most definitions share, without a leading verb or function word.

    >>> rows = [("a", "rcep", "签署区域全面经济伙伴关系协定", "s1"), ("b", "rcep", "加入区域全面经济伙伴关系协定", "s2"),
    ...         ("c", "见附件", "见附件", "s3")]
    >>> [(p["alias"], p["full"], p["reports"]) for p in mine(rows)]
    [('rcep', '区域全面经济伙伴关系协定', 2)]
    """
    by_alias: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for doc_id, alias, full, sentence in found:
        by_alias[alias].append((doc_id, full, sentence))
    pairs = []
    for alias, uses in by_alias.items():
        full = _shared_end([f for _, f, _ in uses])
        if not full or full == alias or len(full) < 2 or (not alias.isascii() and not _subsequence(alias, full)):
            continue
        agreeing = [(d, s) for d, f, s in uses if f.endswith(full)]
        reports = {d for d, _ in agreeing}
        if len(agreeing) < MIN_DEFINITIONS or len(agreeing) < CONSISTENCY * len(uses):
            continue
        pairs.append({"alias": alias, "full": full, "count": len(agreeing), "reports": len(reports),
                      "sample": agreeing[0][1]})
    return sorted(pairs, key=lambda p: (-p["reports"], -p["count"], p["alias"]))


def _shared_end(fulls: list[str]) -> str:
    """The longest ending of the texts before an alias that most of them share,
    starting at a word of one of them; leading verbs and function words removed."""
    ends = {full[start:] for full in set(fulls) for start in _word_starts(full) if start < len(full) - 1}
    need = CONSISTENCY * len(fulls)
    shared = [end for end in ends if sum(1 for f in fulls if f.endswith(end)) >= need]
    return _LEAD.sub("", max(shared, key=len, default=""))


@lru_cache(maxsize=1)
def curated() -> list[tuple[str, str, str]]:
    """``(alias, full, category)`` of the curated table that are used: every
    Latin acronym, and short forms of the categories in :data:`CURATED_CATEGORIES`."""
    out = []
    for line in CURATED_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        alias, full, category = line.split("\t")
        if alias.isascii() or category in CURATED_CATEGORIES:
            out.append((normalize_text(alias), normalize_text(full), category))
    return out


def alias_classes(mined: list[dict], use_curated: bool = True) -> dict[str, tuple[str, ...]]:
    """Each normalised term -> its aliases, both directions (mined pairs first).
    Full forms of one acronym that share at least two characters name the
    same thing (世界贸易组织, 世贸组织 for WTO) and are aliases of each other.

    >>> alias_classes([{"alias": "wto", "full": "世界贸易组织"}, {"alias": "wto", "full": "世贸组织"}], False)["世贸组织"]
    ('wto', '世界贸易组织')
    """
    classes: dict[str, list[str]] = defaultdict(list)
    pairs = [(p["alias"], p["full"]) for p in mined]
    if use_curated:
        pairs += [(a, f) for a, f, _ in curated()]
    fulls: dict[str, list[str]] = defaultdict(list)
    for alias, full in pairs:
        # a short form inside its full form (特区, 汕头经济特区) is a generic head:
        # the full form finds it anyway, and it must not widen the full form
        directions = ((alias, full),) if alias in full else ((alias, full), (full, alias))
        for a, b in directions:
            if b not in classes[a] and a != b:
                classes[a].append(b)
        if alias.isascii() and full not in fulls[alias]:
            fulls[alias].append(full)
    for siblings in fulls.values():
        for a in siblings:
            for b in siblings:
                if a != b and a not in b and len(set(a) & set(b)) >= 2 and b not in classes[a]:
                    classes[a].append(b)
    return {term: tuple(others) for term, others in classes.items()}
