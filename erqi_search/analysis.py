"""Text analysis: normalisation, tokens with true offsets, character bigrams,
stop words, synonyms and key-term extraction; the Whoosh analyzer.

Matching works on a *normalised* copy of the text (NFKC, Latin lower-case,
traditional -> simplified characters) while every token keeps offsets into
the original display text.

Two token streams are indexed for each passage:

* **words** (field ``content``): jieba-style search-mode words, numbers with
  their decimals (``28.6``, ``pm2.5``, ``9%``), stop words dropped;
* **grams** (field ``grams``): overlapping pairs of *atoms* (a Chinese
  character, or a Latin/number run), positioned so that a phrase of bigrams
  matches exactly the texts that contain the phrase, whatever the
  segmentation.

>>> [t.text for t in tokenize("ＰＭ２．５年累积浓度", Segmenter({"累积": 5, "浓度": 5}, 100))]
['pm2.5', '年', '累积', '浓度']
>>> t = tokenize("溫暖二七", Segmenter({"温暖": 5}, 100))[0]
>>> t.text, t.start, t.end
('温暖', 0, 2)
>>> grams("临时党支部")
[('临时', 0), ('时党', 1), ('党支', 2), ('支部', 3)]
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .dictionary import Segmenter, full_segmenter, jieba_file
from .text import ATOM, CJK, CJK_RE, DATA, atoms, normalize, normalize_text

#: Bump when tokens change: an index made with another version must be rebuilt.
ANALYZER_VERSION = "3"  # 3: index tokens cut once per text (0.2)

SYNONYMS_FILE = DATA / "synonyms.txt"

#: Particles and function words dropped from the word stream (never from grams,
#: so phrases keep them). Kept short on purpose: 和 is not here (碳中和, 和谐).
STOP_WORDS = frozenset("的 了 着 之 与 及 或 在 是 对 把 被 将 等 为 于 而 并 也 都 又 其 这 那 个 中".split())


class Token(NamedTuple):
    """A token: normalised ``text``, ``pos`` in its stream, and ``start``/``end``
    offsets into the original text."""

    text: str
    pos: int
    start: int
    end: int


def _span(origin: list[int] | None, start: int, end: int) -> tuple[int, int]:
    if origin is None:
        return start, end
    return origin[start], origin[end - 1] + 1


#: What analysis cuts: a run of Chinese characters (segmented) or another atom (a token as it is).
_PIECE = re.compile(f"([{CJK}]+)|" + ATOM.pattern)


def tokenize(text: str, segmenter: Segmenter | None = None, stop: bool = True) -> list[Token]:
    """Search-mode word tokens of ``text`` with offsets into ``text``."""
    segmenter = segmenter or full_segmenter()
    norm, origin = normalize(text)
    out: list[Token] = []
    for m in _PIECE.finditer(norm):  # the pieces and words of analyze_text, with offsets
        start, end = m.span()
        spans = segmenter.search_spans(m.group()) if m.group(1) else [(0, end - start)]
        for s, e in spans:
            word = norm[start + s : start + e]
            if not (stop and word in STOP_WORDS):
                begin, end_ = _span(origin, start + s, start + e)
                if origin is not None:  # a token inside one expanded character (¼ -> 1⁄4)
                    word = normalize_text(text[begin:end_])
                out.append(Token(word, len(out), begin, end_))
    return out


def words(text: str, segmenter: Segmenter) -> list[str]:
    """Index-mode words of a query fragment (no sub-words), stop words kept.

    >>> words("大气污染防治2018", Segmenter({"大气污染": 5, "防治": 5}, 100))
    ['大气污染', '防治', '2018']
    """
    norm = normalize_text(text)
    out = []
    for m in _PIECE.finditer(norm):
        out.extend(segmenter.cut(m.group()) if m.group(1) else [m.group()])
    return out


def grams(text: str) -> list[tuple[str, int]]:
    """Bigrams of adjacent atoms with positions (the atom index); a gap such as
    punctuation breaks adjacency, so no phrase can match across it."""
    found = atoms(normalize_text(text))
    return [
        (a + b, i)
        for i, ((a, _, a_end), (b, b_start, _)) in enumerate(zip(found, found[1:]))
        if a_end == b_start
    ]


def query_grams(norm_fragment: str) -> list[str]:
    """The bigram phrase that finds a (normalised) fragment: ``"pm10"`` -> ``[]``."""
    found = atoms(norm_fragment)
    return [a + b for (a, _, _), (b, _, _) in zip(found, found[1:])]


def analyze_text(text: str, segmenter: Segmenter):
    """One pass over ``text``: its search-mode words (stop words dropped, as
    the ``content`` field holds them), its index-mode words (for key terms)
    and its bigrams with positions (the ``grams`` field).

    >>> seg = Segmenter({"大气": 5, "污染": 5, "大气污染": 9}, 100)
    >>> search, words_, pairs = analyze_text("大气污染,PM2.5", seg)
    >>> search, words_, pairs
    (['大气', '污染', '大气污染', 'pm2.5'], ['大气污染', 'pm2.5'], [('大气', 0), ('气污', 1), ('污染', 2)])
    """
    norm = normalize_text(text)
    search: list[str] = []
    index: list[str] = []
    pairs: list[tuple[str, int]] = []
    pos, prev_atom, prev_end = 0, "", -1
    for m in _PIECE.finditer(norm):
        start, end = m.span()
        piece = m.group()
        if m.group(1):
            if prev_end == start:
                pairs.append((prev_atom + piece[0], pos - 1))
            pairs.extend((piece[i : i + 2], pos + i) for i in range(len(piece) - 1))
            pos += len(piece)
            prev_atom = piece[-1]
            for s, e in segmenter.spans(piece):
                word = piece[s:e]
                index.append(word)
                if e - s > 2:
                    search.extend(piece[a:b] for a, b in segmenter.sub_spans(piece, s, e))
                if word not in STOP_WORDS:
                    search.append(word)
        else:
            if prev_end == start:
                pairs.append((prev_atom + piece, pos - 1))
            pos += 1
            prev_atom = piece
            index.append(piece)
            if piece not in STOP_WORDS:
                search.append(piece)
        prev_end = end
    return search, index, pairs


def analyze_passages(report, passages, segmenter: Segmenter | None = None) -> list:
    """The token streams of every searchable field of each passage, segmenting
    each text once (the key terms come from the same cut) and the title and
    each section path once per report: :class:`~erqi_search.model.Analyzed`."""
    from dataclasses import replace

    from .model import Analyzed

    segmenter = segmenter or full_segmenter()
    title_words = analyze_text(report.title, segmenter)[0]
    region = normalize_text(report.region) if report.region else ""
    section_cache: dict[tuple, tuple[list[str], list[str]]] = {}
    shared: dict = {}  # one object per distinct token and position of the report: a
    one = shared.setdefault  # long report's tokens are all held until it is written
    out = []
    for passage in passages:
        search, index, pairs = analyze_text(passage.text, segmenter)
        search = [one(w, w) for w in search]
        pairs = [(one(p, p), one(i, i)) for p, i in pairs]
        path = passage.section_path
        if path not in section_cache:
            section_cache[path] = (analyze_text(" ".join(path), segmenter)[0], [normalize_text(h) for h in path])
        section_words, sections = section_cache[path]
        terms = key_terms_of(index)
        out.append(Analyzed(
            passage=replace(passage, key_terms=terms),
            fields={
                "content": search, "grams": pairs, "title": title_words, "section": sections,
                "section_words": section_words, "keywords": [normalize_text(k) for k in passage.keywords],
                "key_terms": list(terms),
            },
            region=region,
        ))
    return out


# ---------------------------------------------------------------- synonyms

@lru_cache(maxsize=1)
def synonym_classes() -> dict[str, tuple[str, ...]]:
    """Each normalised term -> the other members of its class, from ``data/synonyms.txt``.

    >>> synonym_classes()["gdp"][:2]
    ('地区生产总值', '生产总值')
    """
    classes: dict[str, tuple[str, ...]] = {}
    for line in SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        members = [normalize_text(m) for m in line.split()]
        for m in members:
            classes[m] = tuple(dict.fromkeys(o for o in classes.get(m, ()) + tuple(members) if o != m))
    return classes


# ---------------------------------------------------------------- key terms

#: Boilerplate that TF-IDF would otherwise rank high in these reports.
KEY_TERM_STOPS = frozenset(
    "二七区 全区 工作 开展 推进 加强 进一步 全面 积极 持续 我们 他们 以及 其中 目前 今年 同比 "
    "完成 实现 一批 相关 有关 提升 深入 不断 坚持 累计 共计 截至 已经 方面 一是 二是 三是 "
    "着力 加快 大力 确保 做好 围绕 重点 方面 通过 进行 组织 全市 全省 全国 我国 各地 亿元 万元".split()
)


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba.analyse's IDF table (normalised words) and its median, cached
    beside the dictionary (parsing it costs a build or an update 1.5 s)."""
    from .dictionary import cached

    return tuple(cached("idf", _read_idf))


def _read_idf() -> tuple[dict[str, float], float]:
    idf = {}
    with open(jieba_file("analyse/idf.txt"), encoding="utf-8") as handle:
        for line in handle:
            word, _, value = line.rstrip("\n").partition(" ")
            if value:
                idf[normalize_text(word)] = float(value)
    values = sorted(idf.values())
    return idf, values[len(values) // 2]


def key_terms(text: str, k: int = 5, segmenter: Segmenter | None = None) -> tuple[str, ...]:
    """The top ``k`` terms of ``text`` by TF-IDF (jieba.analyse's IDF table).

    >>> key_terms("大气污染防治。大气污染防治,扬尘治理。", k=2)
    ('大气污染防治', '扬尘治理')
    """
    return key_terms_of(words(text, segmenter or full_segmenter()), k)


def key_terms_of(index_words: list[str], k: int = 5) -> tuple[str, ...]:
    """The top ``k`` of a text's index-mode words by TF-IDF."""
    idf, median = _idf()
    counts: dict[str, int] = {}
    for w in index_words:
        if len(w) >= 2 and w not in KEY_TERM_STOPS and CJK_RE.match(w):
            counts[w] = counts.get(w, 0) + 1
    scored = sorted(counts, key=lambda w: (-counts[w] * idf.get(w, median), w))
    return tuple(scored[:k])


# ------------------------------------------------------------ Whoosh analyzer

class ErqiAnalyzer:
    """The Whoosh analyzer of erqi-search fields; ``mode`` is ``"words"`` or ``"grams"``.

    Whoosh pickles it into the index schema: keep this class at
    ``erqi_search.analysis.ErqiAnalyzer``.
    """

    def __init__(self, mode: str = "words"):
        self.mode = mode
        self.version = ANALYZER_VERSION

    def __eq__(self, other):
        return isinstance(other, ErqiAnalyzer) and (self.mode, self.version) == (other.mode, other.version)

    def __repr__(self):
        return f"ErqiAnalyzer({self.mode!r})"

    def token_pairs(self, value: str) -> list[tuple[str, int]]:
        if self.mode == "grams":
            return grams(value)
        return [(t.text, t.pos) for t in tokenize(value)]

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        from whoosh.analysis import Token as WhooshToken

        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, pos in self.token_pairs(value):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            yield token

