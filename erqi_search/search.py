"""Searching an index: :func:`open_index`, :class:`Index`, :class:`Hit`.

Nothing from Whoosh or jieba leaks out: results are dataclasses.

>>> with open_index("index") as idx:
...     res = idx.search("停车泊位", limit=3)
>>> res.total >= 1, "停车泊位" in res.hits[0].text
(True, True)
"""

from __future__ import annotations

import json
import marshal
import os
import pickle
import struct
import threading
import zlib
from contextlib import contextmanager
from pathlib import Path

from .dictionary import Segmenter
from .errors import ErqiSearchError, IndexClosed, IndexCorrupt, InvalidArgument
from .model import Hit, Passage, SearchResults
from .present import highlight_spans, make_snippet
from .query import QueryCompiler, parse
from .schema import FIGURES, QUERY_DICT, check_generation, command_hint, read_manifest

MAX_LIMIT = 1000


def _passage(stored: dict) -> Passage:
    """The :class:`~erqi_search.model.Passage` a stored document was made from."""
    return Passage(
        doc_id=stored["doc_id"],
        passage_id=stored["passage_id"],
        ordinal=stored.get("ordinal", 0),
        title=stored.get("title", ""),
        year=stored.get("year"),
        date=stored.get("date", ""),
        region=stored.get("region", ""),
        source=stored.get("source", ""),
        section_path=tuple(stored.get("section_path") or ()),
        keywords=tuple(stored.get("keywords") or ()),
        key_terms=tuple(stored.get("key_terms") or ()),
        text=stored.get("content", ""),
        span=tuple(stored.get("span") or (0, 0)),
    )


class Index:
    """An open index. Safe to search from several threads at once.

    Use :func:`open_index` to get one; close it (or use ``with``) when done.
    """

    def __init__(self, path: str | Path = "index"):
        from whoosh import index as windex

        self.path = Path(path)
        self.manifest = read_manifest(self.path)
        gen = self._gen = check_generation(self.path, self.manifest)
        try:
            self._ix = windex.open_dir(str(gen))
            table = marshal.loads((gen / QUERY_DICT).read_bytes())
        except ErqiSearchError:
            raise
        except Exception:  # noqa: BLE001 - any Whoosh or file error means a damaged index
            raise IndexCorrupt(
                f"the index at {self.path} is damaged or half-written; rebuild with: {command_hint(self.path, 'rebuild')}"
            ) from None
        self.segmenter = Segmenter.from_prefix_table(table["freq"], table["total"])
        # held open, so the figures stay readable after later writes delete this generation
        self._figures = open(gen / FIGURES, "rb")
        self._closed = False
        self._local = threading.local()
        self._searchers: list = []
        self._lock = threading.Lock()

    # -- plumbing

    #: What Whoosh raises when it reads a damaged file.
    DAMAGE = (EOFError, struct.error, zlib.error, pickle.UnpicklingError, OSError)

    @contextmanager
    def _reading(self):
        """Turn an error from reading damaged index files into :class:`IndexCorrupt`."""
        try:
            yield
        except self.DAMAGE:
            raise IndexCorrupt(
                f"the index at {self.path} is damaged; rebuild with: {command_hint(self.path, 'rebuild')}"
            ) from None

    def _searcher(self):
        if self._closed:
            raise IndexClosed(f"the index at {self.path} is closed; open it again with open_index()")
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            from whoosh.scoring import BM25F

            searcher = self._ix.searcher(weighting=BM25F(B=0.6, K1=1.2))
            self._local.searcher = searcher
            with self._lock:
                self._searchers.append(searcher)
        return searcher

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for searcher in self._searchers:
                searcher.close()
            self._searchers.clear()
        self._figures.close()
        self._ix.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- searching

    def search(self, query: str, *, year: int | None = None, section: str | None = None,
               limit: int = 10, page: int = 1, facets: bool = False) -> SearchResults:
        """Search passages. ``year`` and ``section`` filter like ``year:`` and
        ``section:`` in the query; ``page`` counts from 1.

        Raises :class:`~erqi_search.errors.QuerySyntaxError` for bad syntax.
        """
        from whoosh import query as wq

        limit = max(1, min(_integer("limit", limit), MAX_LIMIT))
        page = max(1, _integer("page", page))
        year = None if year is None else _year(year)
        reader = self._searcher().reader()
        compiler = QueryCompiler(self.segmenter, lambda fieldname, text: (fieldname, text) in reader)
        compiled = compiler.compile(parse(query))
        if compiled.query is None:
            return SearchResults(query, 0, page, [], {} if facets else None, compiled.hint, limit)
        filters = []
        if year is not None:
            filters.append(wq.NumericRange("year", int(year), int(year)))
        if section:
            section_q = compiler.compile(parse(f"section:{_quote(section)}")).query
            if section_q is not None:
                filters.append(section_q)
        q = wq.And([compiled.query] + filters) if filters else compiled.query
        need = page * limit
        with self._reading():
            searcher = self._searcher()
            # Whoosh's own count is wrong once it skips blocks: count the match set ourselves.
            matched = match_set(q, searcher)
            results = searcher.search(q, limit=need + 10, terms=False)
            ranked = sorted(
                ((round(hit.score, 6), hit.fields()) for hit in results),
                key=lambda pair: (-pair[0], -(pair[1].get("year") or 0), pair[1]["passage_id"]),
            )
            facet_counts = self._facets(searcher, matched) if facets else None
        total = len(matched)
        hits = [self._hit(fields, score, compiled.highlight_terms) for score, fields in ranked[need - limit : need]]
        return SearchResults(query, total, page, hits, facet_counts, "", limit)

    @staticmethod
    def _facets(searcher, matched: set[int]) -> dict:
        """Counts by year and top-level section over the whole match set."""
        from collections import Counter

        reader = searcher.reader()
        out = {}
        for name, column in (("year", "year"), ("section", "top_section")):
            values = reader.column_reader(column)
            counts = Counter(values[docnum] for docnum in matched)
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            out[name] = {(str(k) if k not in ("", None, 0) else "(none)"): v for k, v in ordered}
        return out

    @staticmethod
    def _hit(stored: dict, score: float, terms: list[str]) -> Hit:
        passage = _passage(stored)
        spans = highlight_spans(passage.text, terms)
        snippet, inner = make_snippet(passage.text, spans)
        return Hit(passage, score, snippet, tuple(spans), tuple(inner))

    # -- browsing

    def passage(self, passage_id: str) -> Passage | None:
        """The stored passage with this id, or ``None``."""
        with self._reading():
            stored = self._searcher().document(passage_id=passage_id)
        return _passage(stored) if stored else None

    def document(self, doc_id: str) -> list[Passage]:
        """All passages of one report, in order (empty if there is no such report)."""
        with self._reading():
            found = [_passage(s) for s in self._searcher().documents(doc_id=doc_id)]
        return sorted(found, key=lambda p: p.ordinal)

    def keywords(self, year: int | None = None, limit: int = 20) -> list[tuple[str, int, str]]:
        """The most frequent 关键词 and extracted key terms: ``(term, passages, kind)``,
        kind ``"关键词"`` for the reports' own, ``"extracted"`` for TF-IDF terms."""
        from collections import Counter

        year = None if year is None else _year(year)
        counts: Counter = Counter()
        with self._reading():
            for stored in self._searcher().all_stored_fields():
                if year is not None and stored.get("year") != year:
                    continue
                for k in stored.get("keywords") or ():
                    counts[(k, "关键词")] += 1
                for k in stored.get("key_terms") or ():
                    counts[(k, "extracted")] += 1
        ranked = sorted(counts.items(), key=lambda kv: (kv[0][1] != "关键词", -kv[1], kv[0][0]))
        return [(term, n, kind) for (term, kind), n in ranked[:limit]]

    @property
    def passage_count(self) -> int:
        return self._searcher().doc_count()

    # -- figures and trends

    def figures(self, indicator: str) -> list["Figure"]:
        """The figures whose indicator names ``indicator`` or one of its
        synonyms (``GDP`` finds 地区生产总值), ordered by year.

        >>> [(f.year, f.value, f.unit) for f in open_index("index").figures("优良天数")]
        [(2017, 66.0, '天'), (2018, 165.0, '天'), (2020, 234.0, '天')]
        """
        from .analysis import synonym_classes
        from .text import normalize_text
        from .figures import Figure, matches

        key = normalize_text(indicator).strip()
        forms = [key] + list(synonym_classes().get(key, ()))
        found = []
        self._searcher()  # raises IndexClosed after close()
        data = os.pread(self._figures.fileno(), os.fstat(self._figures.fileno()).st_size, 0)
        for line in data.decode("utf-8").splitlines():
            record = json.loads(line)
            if matches(record["indicator"], forms):
                found.append(Figure(**record))
        return sorted(found, key=lambda f: f.year or 0)  # stable: text order within a year

    def trend(self, term: str) -> list[tuple[int, int, float]]:
        """Per year: passages matching ``term`` (query syntax allowed), and per 1,000 passages."""
        from collections import Counter

        reader = self._searcher().reader()
        compiler = QueryCompiler(self.segmenter, lambda fieldname, text: (fieldname, text) in reader)
        compiled = compiler.compile(parse(term))
        with self._reading():
            years = reader.column_reader("year")
            totals = Counter(years[d] for d in reader.all_doc_ids())
            matched = match_set(compiled.query, self._searcher()) if compiled.query is not None else set()
            counts = Counter(years[d] for d in matched)
        return [(year, counts.get(year, 0), 1000 * counts.get(year, 0) / n)
                for year, n in sorted(totals.items()) if year]

    def compare(self, year_a: int, year_b: int, limit: int = 10) -> dict[str, list[tuple[str, float, float]]]:
        """关键词 and key terms that rose and fell from ``year_a`` to ``year_b``:
        ``{"rose": [(term, per_1000_a, per_1000_b), ...], "fell": [...]}``."""
        from collections import Counter

        year_a, year_b = _year(year_a), _year(year_b)
        counts = {year_a: Counter(), year_b: Counter()}
        passages = Counter()
        with self._reading():
            for stored in self._searcher().all_stored_fields():
                year = stored.get("year")
                if year in counts:
                    passages[year] += 1
                    counts[year].update(set(stored.get("keywords") or ()) | set(stored.get("key_terms") or ()))
        rate = {y: {t: 1000 * n / max(passages[y], 1) for t, n in counts[y].items()} for y in counts}
        terms = set(rate[year_a]) | set(rate[year_b])
        delta = sorted(((t, rate[year_a].get(t, 0.0), rate[year_b].get(t, 0.0)) for t in terms),
                       key=lambda row: (row[2] - row[1], row[0]))
        rose = [row for row in reversed(delta) if row[2] > row[1]][:limit]
        fell = [row for row in delta if row[2] < row[1]][:limit]
        return {"rose": rose, "fell": fell}


def match_set(q, searcher) -> set[int]:
    """The document numbers a query matches, computed with set operations on
    posting lists (much cheaper than Whoosh's union matchers for counting)."""
    from whoosh import query as wq

    reader = searcher.reader()

    def docs(node) -> set[int]:
        if isinstance(node, wq.Term):
            if (node.fieldname, node.text) not in reader:
                return set()
            return set(reader.postings(node.fieldname, node.text).all_ids())
        if isinstance(node, wq.ConstantScoreQuery):
            return docs(node.child)
        if isinstance(node, wq.AndMaybe):
            return docs(node.a)
        if isinstance(node, (wq.Or, wq.DisjunctionMax)):
            return set().union(*(docs(sub) for sub in node.subqueries))
        if isinstance(node, wq.And):
            subs = sorted((sub for sub in node.subqueries if not isinstance(sub, wq.Not)),
                          key=lambda sub: sub.estimate_size(reader))
            found = docs(subs[0]) if subs else set(reader.all_doc_ids())
            for sub in subs[1:]:
                if not found:
                    break
                found &= docs(sub)
            for sub in node.subqueries:
                if isinstance(sub, wq.Not) and found:
                    found -= docs(sub.query)
            return found
        if isinstance(node, wq.Not):
            return set(reader.all_doc_ids()) - docs(node.query)
        return set(node.docs(searcher))

    found = docs(q)
    if reader.has_deletions():
        found = {d for d in found if not reader.is_deleted(d)}
    return found


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


def _quote(text: str) -> str:
    return '"' + text.replace('"', "") + '"' if any(c.isspace() for c in text) else text


def open_index(path: str | Path = "index") -> Index:
    """Open the index at ``path`` for searching (a context manager).

    Raises :class:`~erqi_search.errors.IndexNotFound`,
    :class:`~erqi_search.errors.IndexVersionMismatch` or
    :class:`~erqi_search.errors.IndexCorrupt` with a message naming the fix.
    """
    return Index(path)


__all__ = ["Hit", "Index", "SearchResults", "open_index"]
