"""Searching an index: :func:`open_index` and :class:`Index`.

An index is a store (manifest, generations, query dictionary, figures,
aliases) and an engine that answers query plans over it. Nothing from
Whoosh, numpy or jieba leaks out: results are the dataclasses of
:mod:`erqi_search.model`.

>>> with open_index("index") as idx:
...     res = idx.search("停车泊位", limit=3)
>>> res.total >= 1, "停车泊位" in res.hits[0].text
(True, True)
"""

from __future__ import annotations

import json
import mmap
import struct
import threading
import zlib
from contextlib import contextmanager
from pathlib import Path

from . import store
from .errors import ErqiSearchError, IndexClosed, IndexCorrupt, InvalidArgument
from .model import Comparison, Figure, Hit, KeywordCount, SearchResults, TermChange, Trend, TrendPoint
from .plan import Any, Filter, Phrase, Plan, with_filters
from .present import highlighted
from .query import QueryCompiler, parse

MAX_LIMIT = 1000
#: What reading a damaged file raises, anywhere below an engine.
DAMAGE = (EOFError, struct.error, zlib.error, OSError, ValueError, IndexError, KeyError)


class Index:
    """An open index. Safe to search from several threads at once; it keeps
    reading the generation it opened even after later writes publish others.

    Use :func:`open_index` to get one; close it (or use ``with``) when done.
    """

    def __init__(self, path: str | Path = "index", engine: str | None = None):
        from .dictionary import stored_segmenter
        from .engines import open_engine

        self.path = Path(path)
        self.manifest = store.read_manifest(self.path)
        gen = self.engine_gen = store.check_generation(self.path, self.manifest)
        url = engine or self.manifest.get("engine")
        try:
            with open(gen / store.QUERY_DICT, "rb") as handle:
                query_dict = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            self.segmenter = stored_segmenter(query_dict, self.manifest["query_dictionary_total"])
            self.engine = open_engine(url, gen, self.manifest)
            self._figures = store.ReportLines(gen, store.FIGURES).open()
            self.aliases = store.read_aliases(gen, self.manifest)
        except ErqiSearchError:
            raise
        except DAMAGE:
            raise IndexCorrupt(f"the index at {self.path} is damaged or half-written; "
                               f"rebuild with: {store.command_hint(self.path, 'rebuild')}") from None
        self._closed = False
        self._lock = threading.Lock()
        self._figure_lines: list[str] = []
        self._figure_keys: dict[str, list[int]] | None = None

    # -- plumbing

    @contextmanager
    def _reading(self):
        """Check the index is open; turn an error from reading damaged files into :class:`IndexCorrupt`."""
        if self._closed:
            raise IndexClosed(f"the index at {self.path} is closed; open it again with open_index()")
        try:
            yield
        except ErqiSearchError:
            raise
        except DAMAGE:
            raise IndexCorrupt(
                f"the index at {self.path} is damaged; rebuild with: {store.command_hint(self.path, 'rebuild')}"
            ) from None

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._figures.close()
        self.engine.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def compiler(self, synonyms: bool = True, aliases: bool = True) -> QueryCompiler:
        """The query compiler of this index (its dictionary, aliases and term frequencies)."""
        return QueryCompiler(self.segmenter, aliases=self.aliases, doc_frequency=self.engine.doc_frequency,
                             use_synonyms=synonyms, use_aliases=aliases)

    # -- searching

    def plan(self, query: str, *, year: int | None = None, years: tuple[int | None, int | None] | None = None,
             section: str | None = None, region: str | None = None, synonyms: bool = True,
             aliases: bool = True) -> Plan:
        """The plan a search would evaluate (raises :class:`~erqi_search.errors.QuerySyntaxError`)."""
        compiler = self.compiler(synonyms, aliases)
        plan = compiler.compile(parse(query))
        filters: list[Filter] = []
        if year is not None:
            y = _year(year)
            filters.append(Filter("year", low=y, high=y))
        if years is not None:
            low, high = years
            filters.append(Filter("year", low=None if low is None else _year(low),
                                  high=None if high is None else _year(high)))
        if section:
            found = compiler.words_filter("section", section)
            if found is not None:
                filters.append(found)
        if region:
            from .text import normalize_text

            filters.append(Filter("region", value=normalize_text(region).strip()))
        return with_filters(plan, filters)

    def search(self, query: str, *, year: int | None = None, years: tuple[int | None, int | None] | None = None,
               section: str | None = None, region: str | None = None, limit: int = 10, page: int = 1,
               facets: bool = False, synonyms: bool = True, aliases: bool = True,
               explain: bool = False) -> SearchResults:
        """Search passages. ``year``, ``years`` (an inclusive range, ``None``
        for an open end), ``section`` and ``region`` filter like ``year:``,
        ``year:[A TO B]``, ``section:`` and ``region:`` in the query; ``page``
        counts from 1; ``synonyms``/``aliases`` turn those expansions off.

        Pages are disjoint and cover every hit: the order is total (matched
        terms, score, year, report id, passage number).

        Raises :class:`~erqi_search.errors.QuerySyntaxError` for bad syntax.
        """
        limit = max(1, min(_integer("limit", limit), MAX_LIMIT))
        page = max(1, _integer("page", page))
        plan = self.plan(query, year=year, years=years, section=section, region=region, synonyms=synonyms,
                         aliases=aliases)
        if plan.root is None:
            return SearchResults(query, 0, page, [], {} if facets else None, plan.hint, limit, 0, list(plan.notes))
        need = page * limit
        with self._reading():
            outcome = self.engine.search(plan, need, facets)
            ids = outcome.docs[need - limit : need]
            passages = self.engine.passages(ids)
            matched = self.engine.explain(plan, ids) if explain else [()] * len(ids)
        hits = []
        for passage, score, why in zip(passages, outcome.scores[need - limit : need], matched):
            spans, snippet, inner = highlighted(passage.text, plan.highlights)
            hits.append(Hit(passage, score, snippet, tuple(spans), tuple(inner), tuple(why)))
        return SearchResults(query, outcome.total, page, hits, outcome.facets, "", limit, outcome.total_all_terms,
                             list(plan.notes), getattr(outcome, "partial", False))

    # -- browsing

    def passage(self, passage_id: str):
        """The stored passage with this id, or ``None``."""
        with self._reading():
            return self.engine.find_passage(passage_id)

    def document(self, doc_id: str) -> list:
        """All passages of one report, in order (empty if there is no such report)."""
        with self._reading():
            return self.engine.document(doc_id)

    def neighbours(self, ident: str, context: int = 1) -> tuple[list, str | None]:
        """A passage with ``context`` neighbours each side and its id, or, when
        ``ident`` names a report, all its passages and ``None``; ``([], None)``
        when it names neither (what ``show`` prints)."""
        passage = self.passage(ident)
        if passage is None:
            return self.document(ident), None
        lo = max(0, passage.ordinal - 1 - context)
        return self.document(passage.doc_id)[lo : passage.ordinal + context], passage.passage_id

    def all_passages(self):
        """Every passage of the index, report by report (for tools and tests)."""
        with self._reading():
            yield from self.engine.all_passages()

    @property
    def passage_count(self) -> int:
        with self._reading():
            return self.engine.passage_count

    def _passages_of_years(self, years: list[int] | None):
        """The passages of some years (all passages for ``None``)."""
        if years is None:
            return self.all_passages()
        plan = Plan(Any(tuple(Filter("year", low=y, high=y) for y in years)) if len(years) > 1
                    else Filter("year", low=years[0], high=years[0]))
        with self._reading():
            outcome = self.engine.search(plan, max(self.engine.passage_count, 1))
            return self.engine.passages(outcome.docs)

    def keywords(self, year: int | None = None, limit: int = 20) -> list[KeywordCount]:
        """The most frequent 关键词 (kind ``"关键词"``, the reports' own) and
        extracted key terms (kind ``"extracted"``), with how many passages carry each."""
        from collections import Counter

        years = None if year is None else [_year(year)]
        counts: Counter = Counter()
        for p in self._passages_of_years(years):
            for k in p.keywords:
                counts[(k, "关键词")] += 1
            for k in p.key_terms:
                counts[(k, "extracted")] += 1
        ranked = sorted(counts.items(), key=lambda kv: (kv[0][1] != "关键词", -kv[1], kv[0][0]))
        return [KeywordCount(term, n, kind) for (term, kind), n in ranked[:limit]]

    def alias_table(self, curated: bool = False) -> list:
        """The aliases this index uses: the pairs mined from its reports (with
        counts and a sample sentence) and, when asked, the curated ones."""
        import json

        from .aliases import curated as curated_pairs
        from .model import Alias

        with self._reading():
            data = json.loads((self.engine_gen / store.ALIASES).read_text(encoding="utf-8"))
        out = [Alias(p["alias"], p["full"], "mined", p["reports"], p["count"], p["sample"]) for p in data["mined"]]
        if curated:
            out += [Alias(a, f, "curated") for a, f, _ in curated_pairs()]
        return out

    # -- figures and trends

    @property
    def figures_current(self) -> bool:
        """Whether every figure was extracted by this code's rules (else an
        ``index rebuild`` brings them up to date)."""
        return store.figures_current(self.manifest)

    def figures(self, indicator: str, *, year: int | None = None, kind: str | None = None,
                region: str | None = None) -> list[Figure]:
        """The figures whose indicator is ``indicator`` or one of its synonyms
        (``GDP`` finds 地区生产总值; a rate of change, 地区生产总值增速, finds the
        growth figures of its measure), ordered by year, optionally of one
        year, kind (``level``, ``growth``, ``count``) or region.

        >>> [(f.year, f.value, f.unit) for f in open_index("index").figures("优良天数")]
        [(2017, 66.0, '天'), (2018, 165.0, '天'), (2020, 234.0, '天')]
        """
        from .figures import asked_names, name_key
        from .text import normalize_text

        year = None if year is None else _year(year)
        region = None if region is None else normalize_text(region)
        with self._reading():
            lines, by_key = self._figure_index()
        kinds_of: dict[int, set] = {}  # line number -> the kinds it may have (None: any)
        for form, must in asked_names(indicator):
            key = name_key(form)
            for n in by_key.get(key, ()) if key else ():
                kinds_of.setdefault(n, set()).add(must)
        records = ((json.loads(lines[n]), kinds_of[n]) for n in sorted(kinds_of))  # in text order
        found = [Figure(**r) for r, kinds in records
                 if (None in kinds or r.get("kind") in kinds)
                 and (year is None or r.get("year") == year) and (kind is None or r.get("kind") == kind)
                 and (region is None or normalize_text(r.get("region") or "") == region)]
        return sorted(found, key=lambda f: f.year or 0)  # stable: text order within a year

    def _figure_index(self) -> tuple[list[str], dict[str, list[int]]]:
        """The figure lines, and their numbers by each name they answer to
        (:func:`~erqi_search.figures.match_keys`): read on the first call and
        kept, so the figures of a name cost a look-up (the web page asks on
        every request) instead of parsing every figure."""
        from .figures import match_keys_of

        with self._lock:
            if self._figure_keys is None:
                lines = store.read_raw_lines(self._figures)
                names = [store.line_field(line, "indicator") for line in lines]
                keys_of = match_keys_of(names)
                by_key: dict[str, list[int]] = {}
                for n, name in enumerate(names):
                    for key in keys_of[name]:
                        by_key.setdefault(key, []).append(n)
                self._figure_lines, self._figure_keys = lines, by_key
            return self._figure_lines, self._figure_keys

    def trend(self, term: str, synonyms: bool = False) -> Trend:
        """Per year: the passages whose text contains ``term`` (its synonyms
        too when asked), and all passages of the year. Counts equal a count of
        the stored passages' normalised text."""
        from .analysis import synonym_classes
        from .text import atoms, normalize_text

        norm = normalize_text(term).strip()
        if not atoms(norm):
            raise InvalidArgument(f"nothing to count in {term!r}")
        forms = [norm] + (list(synonym_classes().get(norm, ())) if synonyms else [])
        root = Phrase(norm) if len(forms) == 1 else Any(tuple(Phrase(f) for f in forms))
        with self._reading():
            outcome = self.engine.search(Plan(root), 0, facets=True)
            totals = self.engine.year_totals()
        counts = outcome.facets["year"]
        points = [TrendPoint(year, counts.get(year, 0), n) for year, n in sorted(totals.items())]
        return Trend(term, tuple(forms), points)

    def compare(self, year_a: int, year_b: int, limit: int = 10) -> Comparison:
        """关键词 and key terms that rose and fell from ``year_a`` to ``year_b``,
        in passages per 1,000 of each year."""
        from collections import Counter

        year_a, year_b = _year(year_a), _year(year_b)
        counts = {year_a: Counter(), year_b: Counter()}
        passages = Counter()
        for p in self._passages_of_years([year_a, year_b]):
            passages[p.year] += 1
            counts[p.year].update(set(p.keywords) | set(p.key_terms))
        rate = {y: {t: 1000 * n / max(passages[y], 1) for t, n in counts[y].items()} for y in counts}
        terms = set(rate[year_a]) | set(rate[year_b])
        delta = sorted((TermChange(t, rate[year_a].get(t, 0.0), rate[year_b].get(t, 0.0)) for t in terms),
                       key=lambda c: (c.rate_b - c.rate_a, c.term))
        rose = [c for c in reversed(delta) if c.rate_b > c.rate_a][:limit]
        fell = [c for c in delta if c.rate_b < c.rate_a][:limit]
        return Comparison(year_a, year_b, rose, fell)


def _integer(name: str, value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must be a whole number, not {value!r}") from None


def _year(value) -> int:
    """A year argument as an int: four digits, or :class:`InvalidArgument`."""
    year = _integer("year", value)
    if not 1000 <= year <= 9999:
        raise InvalidArgument(f"year must have four digits, not {value!r}")
    return year


def open_index(path: str | Path = "index", engine: str | None = None) -> Index:
    """Open the index at ``path`` for searching (a context manager).

    ``engine`` overrides the engine URL the manifest records (the embedded
    engine, or ``sphinx://HOST:PORT``). Raises
    :class:`~erqi_search.errors.IndexNotFound`,
    :class:`~erqi_search.errors.IndexVersionMismatch` or
    :class:`~erqi_search.errors.IndexCorrupt` with a message naming the fix.
    """
    return Index(path, engine)


__all__ = ["Index", "open_index"]
