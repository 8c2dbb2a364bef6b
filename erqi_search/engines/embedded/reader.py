"""An open generation of the embedded engine: its segments side by side, with
global document numbers (a segment's numbers follow the previous one's),
collection statistics over the live documents, and the stored passages.

A generation directory holds ``segments.json`` (the segments in order, with
their deletions) and each segment's files (:mod:`.segment`); Whoosh's table
of contents beside them describes the same segments through the codec in
:mod:`.codec`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ...model import Passage
from .postings import entry_parts
from .segment import SegmentReader

SEGMENTS = "segments.json"
#: Decoded posting lists are kept (least recently used out first) up to this
#: many bytes: the words of a session's queries recur. 0 turns the cache off.
POSTINGS_CACHE_BYTES = 48 * 1024 * 1024
#: Up to this many documents, order keys are read from their reports' records
#: instead of ranking every report of the index (0.5 s cold on 23,471 reports).
DIRECT_ORDER_KEYS = 2000


class _ArrayCache:
    """A thread-safe LRU of array tuples, bounded by their total size in bytes."""

    def __init__(self, limit: int):
        self.limit, self.size = limit, 0
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key, value) -> None:
        size = sum(a.nbytes for a in value) + 64
        if size > self.limit // 8:
            return
        for array in value:
            array.flags.writeable = False  # shared between queries: nobody may change them
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.size += size
            while self.size > self.limit:
                _, old = self.items.popitem(last=False)
                self.size -= sum(a.nbytes for a in old) + 64


def read_segments(gen: Path) -> dict:
    return json.loads((Path(gen) / SEGMENTS).read_text(encoding="utf-8"))


def report_prefix(doc_id: str) -> str:
    """How the stored record of report ``doc_id`` starts, as stored.Writer writes it."""
    return '{"d":' + json.dumps(doc_id, ensure_ascii=False) + ","


class GenerationReader:
    """Everything the evaluator reads, over all segments of a generation."""

    def __init__(self, gen: Path):
        self.gen = Path(gen)
        described = read_segments(self.gen)
        self.segments = [SegmentReader(self.gen, d) for d in described["segments"]]
        self.starts = []
        at = 0
        for seg in self.segments:
            self.starts.append(at)
            at += seg.doc_count
        self.doc_count_all = at
        deleted = [start + d for seg, start in zip(self.segments, self.starts) for d in seg.deleted]
        self.deleted = np.array(sorted(deleted), np.int32)
        self.live = None
        if len(self.deleted):
            self.live = np.ones(self.doc_count_all, bool)
            self.live[self.deleted] = False
        self.doc_count = self.doc_count_all - len(self.deleted)
        self._cache: dict = {}
        self._lock = threading.Lock()
        self._postings = _ArrayCache(POSTINGS_CACHE_BYTES) if POSTINGS_CACHE_BYTES else None

    # -- statistics

    def average_length(self, field: str) -> float:
        key = ("avg", field)
        if key not in self._cache:
            total = sum(seg.totals[field] for seg in self.segments)
            if len(self.deleted):
                total -= int(self.column_lengths(field)[self.deleted].sum())
            self._cache[key] = total / max(self.doc_count, 1)
        return self._cache[key]

    def _joined(self, name: str, parts) -> np.ndarray:
        """A per-document array over all segments (a view when there is one segment)."""
        key = ("col", name)
        found = self._cache.get(key)
        if found is None:
            parts = list(parts)
            found = parts[0] if len(parts) == 1 else np.concatenate(parts)
            with self._lock:
                self._cache[key] = found
        return found

    def column_lengths(self, field: str) -> np.ndarray:
        return self._joined("len:" + field, (seg.lengths[field] for seg in self.segments))

    def norms(self, field: str, k1: float, b: float, docs: np.ndarray) -> np.ndarray:
        """``k1 * (1 - b + b * length / average)`` of each of ``docs``: BM25's
        denominator term. Kept for every document once a term needs many of
        them; a few are computed on their own (a cold search of a rare term
        need not fill a column of the whole index)."""
        key = ("norm", field, k1, b)
        found = self._cache.get(key)
        if found is None and len(docs) * 16 < self.doc_count_all:
            lengths = self.column_lengths(field)[docs].astype(np.float64)
            return k1 * ((1 - b) + b * lengths / (self.average_length(field) or 1))
        if found is None:
            lengths = self.column_lengths(field).astype(np.float64)
            found = k1 * ((1 - b) + b * lengths / (self.average_length(field) or 1))
            with self._lock:
                self._cache[key] = found
        return found[docs]

    @property
    def years(self) -> np.ndarray:
        return self._joined("year", (seg.year for seg in self.segments))

    # -- postings

    def postings(self, field: str, term: str, positional: bool = False):
        """``(docs, freqs[, positions])`` of a term over all segments, global
        document numbers, deleted documents included (see :meth:`live_df`);
        ``None`` when no segment holds the term. Read-only arrays."""
        key = (field, term, positional)
        found = self._postings.get(key) if self._postings else None
        if found is None:
            found = self._read_postings(field, term, positional)
            if self._postings is not None:
                self._postings.put(key, found or ())
        return found or None

    def _read_postings(self, field: str, term: str, positional: bool):
        parts = []
        for seg, start in zip(self.segments, self.starts):
            found = seg.lookup(field, term)
            if found is not None:
                arrays = seg.read(field, found, positional)
                if start:
                    arrays = (arrays[0] + start,) + tuple(arrays[1:])
                parts.append(arrays)
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return tuple(np.concatenate(column) for column in zip(*parts))

    def prefix_postings(self, field: str, prefix: str, limit: int = 512):
        """Postings of every term of ``field`` starting with ``prefix`` (at most
        ``limit`` terms a segment), merged: ``(docs, summed freqs)``."""
        docs, freqs = [], []
        for seg, start in zip(self.segments, self.starts):
            for _, found in seg.terms_with_prefix(field, prefix, limit):
                d, f = seg.read(field, found)
                docs.append(d + start)
                freqs.append(f)
        if not docs:
            return None
        d = np.concatenate(docs)
        f = np.concatenate(freqs).astype(np.float64)
        order = np.argsort(d, kind="stable")
        d, f = d[order], f[order]
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        return d[starts], np.add.reduceat(f, starts)

    def doc_frequency(self, field: str, term: str) -> int:
        """Documents holding the term (deleted ones included: a cheap estimate)."""
        return sum(entry_parts(found[0])[0] for found in (seg.lookup(field, term) for seg in self.segments) if found)

    def live_df(self, docs: np.ndarray) -> int:
        """How many of ``docs`` are live: the exact document frequency."""
        if self.live is None:
            return len(docs)
        return int(self.live[docs].sum())

    # -- stored

    def locate(self, doc: int) -> tuple[SegmentReader, int]:
        i = int(np.searchsorted(self.starts, doc, side="right")) - 1
        return self.segments[i], doc - self.starts[i]

    def passage(self, doc: int) -> Passage:
        """The stored passage with global number ``doc``."""
        seg, local = self.locate(doc)
        record = seg.stored.get(local)
        report = seg.report_record(int(seg.report[local]))
        return Passage(
            doc_id=report["d"], passage_id=f"{report['d']}#{record['o']:03d}", ordinal=record["o"],
            title=report["t"], year=report["y"], date=report["dt"], region=report["r"], source=report["s"],
            section_path=tuple(record["s"]), keywords=tuple(record["k"]), key_terms=tuple(record["t"]),
            text=record["c"], span=tuple(record["a"]),
        )

    def reports(self):
        """``(start, report record)`` of every report, global first document in ``start``."""
        for seg, start in zip(self.segments, self.starts):
            for record in seg.reports:
                yield start + record["f"], record

    def report_ranges(self) -> dict[str, tuple[int, int]]:
        """doc_id -> (first global document, passages), for the live reports."""
        key = ("ranges",)
        found = self._cache.get(key)
        if found is None:
            found = {}
            for first, record in self.reports():
                if self.live is None or self.live[first]:
                    found[record["d"]] = (first, record["n"])
            with self._lock:
                self._cache[key] = found
        return found

    def report_range(self, doc_id: str) -> tuple[int, int] | None:
        """``(first global document, passages)`` of one live report: from
        :meth:`report_ranges` once that is built, else by finding the report's
        record without reading the others (``show`` on a cold index)."""
        found = self._cache.get(("ranges",))
        if found is not None:
            return found.get(doc_id)
        for seg, start in zip(self.segments, self.starts):
            for _, record in seg.reports.starting_with(report_prefix(doc_id)):
                first = start + record["f"]
                if self.live is None or self.live[first]:
                    return first, record["n"]
        return None

    def order_keys(self) -> np.ndarray:
        """A per-document rank of (report id, passage number): the unique last
        key of every ordering, equal to ordering by passage id."""
        key = ("order",)
        found = self._cache.get(key)
        if found is None:
            ranges = sorted((doc_id, first, n) for doc_id, (first, n) in self.report_ranges().items())
            found = np.zeros(self.doc_count_all, np.int64)
            for rank, (_, first, n) in enumerate(ranges):
                found[first : first + n] = rank * 100_000 + np.arange(n)
            with self._lock:
                self._cache[key] = found
        return found

    def order_keys_of(self, docs: np.ndarray) -> np.ndarray:
        """Keys that order ``docs`` as their passage ids do (report id, then
        passage number), comparable among ``docs`` only. A few documents are
        looked up one by one; many use :meth:`order_keys` (built once)."""
        if len(docs) > DIRECT_ORDER_KEYS or ("order",) in self._cache:
            return self.order_keys()[docs]
        names, places = [], []
        for doc in docs.tolist():
            seg, local = self.locate(doc)
            record = seg.report_record(int(seg.report[local]))
            names.append(record["d"])
            places.append(local - record["f"])
        rank = {name: i for i, name in enumerate(sorted(set(names)))}
        return np.array([rank[n] * 100_000 + p for n, p in zip(names, places)], np.int64)

    def code_counts(self, table: str, column: str, docs: np.ndarray) -> dict[str, int]:
        """Counts of a code column's strings over ``docs`` ("" where none)."""
        counts: dict[str, int] = {}
        for seg, start in zip(self.segments, self.starts):
            inside = docs[(docs >= start) & (docs < start + seg.doc_count)] - start
            if not len(inside):
                continue
            found = np.bincount(getattr(seg, column)[inside].astype(np.int64))
            strings = seg.tables()[table]
            for code in np.flatnonzero(found).tolist():
                name = strings[code - 1] if code else ""
                counts[name] = counts.get(name, 0) + int(found[code])
        return counts

    def code_docs(self, table: str, column: str, value: str) -> np.ndarray:
        """Global documents whose code column holds ``value``."""
        parts = []
        for seg, start in zip(self.segments, self.starts):
            strings = seg.tables()[table]
            if value in strings:
                code = strings.index(value) + 1
                parts.append(np.flatnonzero(getattr(seg, column) == code).astype(np.int32) + start)
        return np.concatenate(parts) if parts else np.zeros(0, np.int32)

    def close(self) -> None:
        for seg in self.segments:
            seg.close()
