"""The plain data classes the stages pass around. A leaf module: it imports
nothing of ours, so every stage may import it.

>>> p = Passage("r", "r#001", 1, "标题", 2020, "", "", "r.txt", ("一、生态",), (), (), "正文", (0, 2))
>>> hit = Hit(p, score=1.5, snippet="正文", highlights=((0, 2),))
>>> hit.passage_id, hit.section, hit.year
('r#001', '一、生态', 2020)
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, ClassVar


@dataclass(frozen=True)
class Block:
    """One line of a report: a heading (with its rank) or a paragraph.

    ``rank`` orders headings from outermost (small) to innermost (large);
    ``keyword`` is set on ``关键词:`` headings and holds the keyword.
    """

    kind: str  # "heading", "para" or "item"
    text: str
    rank: int = 0
    keyword: str = ""


@dataclass
class Report:
    """A report read from one file, with its blocks and metadata.

    Cut it into passages with :func:`erqi_search.passages.cut_passages`.
    """

    doc_id: str
    title: str
    year: int | None
    date: str
    source: str
    sha256: str
    blocks: list[Block]
    region: str = ""
    speaker: str = ""  # a byline or signature, where the report names one clearly
    boilerplate: tuple[str, ...] = ()  # lines left out as corpus boilerplate

    #: Set by :mod:`erqi_search.passages` on import (for the deprecated property).
    _cutter: ClassVar[Callable | None] = None

    @property
    def text(self) -> str:
        """The display text: block texts joined by newlines."""
        return "\n".join(b.text for b in self.blocks)

    @property
    def passages(self) -> list:
        """Deprecated (0.2): call ``erqi_search.passages.cut_passages(report)``."""
        warnings.warn("Report.passages is deprecated and will go in 0.3; "
                      "call erqi_search.passages.cut_passages(report)", DeprecationWarning, stacklevel=2)
        return Report._cutter(self, with_key_terms=True)


@dataclass(frozen=True)
class Passage:
    """A searchable unit of a report.

    ``keywords`` are the report's own 关键词 above the passage;
    ``key_terms`` are terms extracted by TF-IDF. ``span`` is the passage's
    ``(start, end)`` in the report's display text.
    """

    doc_id: str
    passage_id: str
    ordinal: int
    title: str
    year: int | None
    date: str
    region: str
    source: str
    section_path: tuple[str, ...]
    keywords: tuple[str, ...]
    key_terms: tuple[str, ...]
    text: str
    span: tuple[int, int]


@dataclass
class Analyzed:
    """A passage with the tokens of each searchable field, as engines index it.

    ``fields`` maps a field of :data:`erqi_search.schema.FIELDS` to its
    tokens: words for word and keyword fields, ``(bigram, position)`` pairs
    for ``grams``. ``region`` is normalised for the ``region:`` filter.
    """

    passage: Passage
    fields: dict[str, list]
    region: str = ""


@dataclass(frozen=True)
class Hit:
    """One passage found by a search, with its score and highlights.

    ``highlights`` are ``(start, end)`` offsets into ``text``;
    ``snippet_highlights`` the same inside ``snippet``. The passage's own
    attributes read through (``hit.title``, ``hit.year``, ...);
    ``section`` is the innermost heading.
    """

    passage: Passage
    score: float
    snippet: str
    highlights: tuple[tuple[int, int], ...]
    snippet_highlights: tuple[tuple[int, int], ...] = ()
    matched: tuple = ()  # (term, form, weight, fields) per matched query form, for --explain

    doc_id = property(lambda self: self.passage.doc_id)
    passage_id = property(lambda self: self.passage.passage_id)
    title = property(lambda self: self.passage.title)
    year = property(lambda self: self.passage.year)
    date = property(lambda self: self.passage.date)
    region = property(lambda self: self.passage.region)
    source = property(lambda self: self.passage.source)
    section_path = property(lambda self: self.passage.section_path)
    keywords = property(lambda self: self.passage.keywords)
    key_terms = property(lambda self: self.passage.key_terms)
    text = property(lambda self: self.passage.text)

    @property
    def section(self) -> str:
        """The innermost heading ("" at the top of a report)."""
        return self.passage.section_path[-1] if self.passage.section_path else ""


@dataclass
class SearchResults:
    """A page of hits.

    ``total`` counts every passage that matches; ``total_all_terms`` those
    that match every term of a soft AND (all of them for other queries);
    ``facets`` (when asked) count the matches by year, top-level section and
    region; ``notes`` say what the engine did to the query (terms dropped past
    the cap, aliases used); ``partial`` is true when part of a distributed
    index did not answer.
    """

    query: str
    total: int
    page: int
    hits: list[Hit]
    facets: dict | None = None
    hint: str = ""
    limit: int = 10
    total_all_terms: int = 0
    notes: list[str] = field(default_factory=list)
    partial: bool = False


@dataclass
class Progress:
    """Where a write stands; handed to the ``progress`` callback as files are done."""

    files_done: int
    files_total: int
    passages: int
    characters: int
    elapsed: float


@dataclass
class BuildReport:
    """What a build, update or rebuild did. ``skipped`` lists every file or
    directory passed over (each was warned about once)."""

    path: str
    generation: str
    documents: int
    passages: int
    characters: int = 0
    seconds: float = 0.0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    segments: int = 0

    def skip(self, path, reason: str, warn: Callable[[str], None]) -> None:
        """Record a file passed over and warn once: the summary's count equals the warnings."""
        self.skipped.append(str(path))
        warn(f"skipped {path}: {reason}")


@dataclass
class IndexStatus:
    """What ``erqi-search index status`` shows."""

    path: str
    generation: str
    engine: str
    documents: int
    passages: int
    size_bytes: int
    built_at: str
    build_seconds: float
    versions: dict
    sources: list[str]
    stale: list[str]  # source files changed, added or removed since the write
    missing_sources: list[str] = field(default_factory=list)  # recorded sources that no longer exist
    segments: int = 0
    boilerplate: list[str] = field(default_factory=list)  # lines left out as corpus boilerplate
    figures_current: bool = True  # every figure extracted by this code's rules (else: rebuild)


#: Units of a rate: a range keeps its unit on both ends (6.5%-7%).
RATE_UNITS = ("%", "‰")
#: Words before a number that qualify it (约10%, 超过600万千瓦, 突破千项): a figure's ``approx`` starts with one.
APPROX_PREFIX = "将近|接近|大约|约|近|超过|超|逾|突破|不到|不足|不低于|不少于|不超过|低于|高于|小于|大于|上"


def decimal_text(value: float) -> str:
    """``632440000.0 -> "632440000"``, ``4.76 -> "4.76"`` (no exponent)."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Figure:
    """One figure found in a passage.

    ``value`` is the number as written with its magnitude in ``unit``
    (253 with 亿元); a range (6.5%-7%) has its upper bound in ``high``.
    ``approx`` is what qualifies the number as written: a prefix (约, 近,
    超, 低于), 余/多, a suffix (左右, 以上, 以内).
    """

    indicator: str
    value: float
    unit: str
    kind: str  # "level", "growth" or "count"
    period: str
    text: str  # the clause it was found in
    year: int | None = None
    passage_id: str = ""
    doc_id: str = ""
    approx: str = ""
    high: float | None = None  # the upper bound of a range, else None
    region: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def amount(self) -> str:
        """The amount written out: 余/多 where Chinese puts them.

        >>> Figure("签约额", 1000.0, "亿元", "level", "", "", approx="多").amount()
        '1000多亿元'
        >>> Figure("惠及居民", 4.0, "万户", "count", "", "", approx="多").amount()
        '4万多户'
        >>> Figure("国内生产总值", 6.5, "%", "growth", "", "", high=7.0, approx="左右").amount()
        '6.5%-7%左右'
        """
        prefix = re.match(APPROX_PREFIX, self.approx)
        rest = self.approx[prefix.end():] if prefix else self.approx
        middle = rest[:1] if rest[:1] in ("多", "余") else ""
        suffix = rest[len(middle):]
        value = decimal_text(self.value)
        if self.high is not None:
            high = decimal_text(self.high)
            value = f"{value}{self.unit}-{high}" if self.unit in RATE_UNITS else f"{value}-{high}"
        mag = next((m for m in ("万亿", "亿", "万") if self.unit.startswith(m)), "")
        if not middle:
            text = f"{value}{self.unit}"
        elif self.high is None and self.value == int(self.value) and self.value % 10 == 0:
            text = f"{value}{middle}{self.unit}"  # 1000多亿元, 700余处
        elif mag:
            text = f"{value}{mag}{middle}{self.unit[len(mag):]}"  # 2.1万余人, 4万多户
        else:
            text = f"{value}{self.unit}{middle}"  # 1倍多
        return f"{prefix.group() if prefix else ''}{text}{suffix}"


@dataclass(frozen=True)
class TrendPoint:
    """One year of :meth:`Index.trend`: passages whose text holds the term, of all passages."""

    year: int
    passages: int
    total: int

    @property
    def per_1000(self) -> float:
        return 1000 * self.passages / self.total if self.total else 0.0


@dataclass(frozen=True)
class Trend:
    """A term's passages per year, and the forms that were counted."""

    term: str
    forms: tuple[str, ...]
    points: list[TrendPoint]


@dataclass(frozen=True)
class TermChange:
    """A 关键词 or key term whose rate (per 1,000 passages) moved between two years."""

    term: str
    rate_a: float
    rate_b: float


@dataclass(frozen=True)
class Comparison:
    """What :meth:`Index.compare` returns: terms that rose and fell."""

    year_a: int
    year_b: int
    rose: list[TermChange]
    fell: list[TermChange]


@dataclass(frozen=True)
class Alias:
    """An alias and its full form: ``source`` is ``mined`` (defined in the
    corpus: ``reports`` defining it, ``count`` definitions, a ``sample``
    sentence) or ``curated`` (the shipped table)."""

    alias: str
    full: str
    source: str
    reports: int = 0
    count: int = 0
    sample: str = ""


@dataclass(frozen=True)
class KeywordCount:
    """A term with the number of passages carrying it; ``kind`` is ``"关键词"``
    for the reports' own keywords, ``"extracted"`` for TF-IDF terms."""

    term: str
    passages: int
    kind: str
