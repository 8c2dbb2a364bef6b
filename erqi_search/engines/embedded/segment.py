"""A segment: the postings, lengths, columns and stored passages of a run of
reports, written once and then only read (and merged away).

Files of segment ``ID`` (see docs/architecture.md):

==========  =================================================================
``ID.pst``  packed posting runs (:mod:`.postings`), field by field, term by term
``ID.lex``  the term dictionary (:mod:`erqi_search.lexicon`): field byte + term
            -> document frequency, run offset and length
``ID.len``  field lengths: a little-endian u16 per document, field by field
``ID.col``  columns: year (u16), report (u32), top-level section (u32 code),
            region (u16 code)
``ID.sto``  stored passages (:mod:`.stored`)
``ID.rep``  stored reports: id, title, year, date, region, source, speaker,
            first document and passage count
``ID.tab``  the strings behind the section and region codes (JSON)
==========  =================================================================

>>> FIELD_IDS["content"], FIELD_IDS["grams"]
(1, 2)
"""

from __future__ import annotations

import heapq
import json
import mmap
import os
from array import array
from collections import Counter, defaultdict
from itertools import chain, groupby
from pathlib import Path

import numpy as np

from ... import lexicon, schema
from . import postings, stored

FIELD_IDS = {name: i + 1 for i, name in enumerate(schema.FIELDS)}
#: ``ID.len``: one little-endian value of this type per document, field by field.
LENGTH = "<u2"
#: ``ID.col``: the columns, one after the other, each one value a document.
COLUMNS = (("year", "<u2"), ("report", "<u4"), ("top", "<u4"), ("region", "<u2"))
SUFFIXES = ("pst", "lex", "len", "col", "sto", "rep", "tab")
#: Postings held in memory before a pass is written out (about 12 bytes each).
SPILL_POSTINGS = 3_000_000
#: Terms whose postings are turned into Python lists at once when a pass is written.
RUN_CHUNK_TERMS = 4096


def write_tables(base: Path, lengths: dict, columns: dict, reports, tables: dict) -> None:
    """Write a segment's ``.len``, ``.col``, ``.rep`` and ``.tab`` files (a
    build's segment and a merge's): ``lengths`` and ``columns`` map names to
    sequences (arrays or numpy), ``reports`` are the report records."""
    with open(base.with_suffix(".len"), "wb") as out:
        for name in schema.FIELDS:
            out.write(np.asarray(lengths[name]).astype(LENGTH).tobytes())
    with open(base.with_suffix(".col"), "wb") as out:
        for name, dtype in COLUMNS:
            out.write(np.asarray(columns[name]).astype(dtype).tobytes())
    with open(base.with_suffix(".rep"), "wb") as out:
        stored.write(out, reports, zdict=b"")
    base.with_suffix(".tab").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")


def key(field: str, term: str) -> bytes:
    """The dictionary key of ``term`` in ``field``."""
    return bytes([FIELD_IDS[field]]) + term.encode("utf-8")


class _FieldBuffer:
    """One field's postings since the last spill, as flat arrays: a term number,
    a document and a frequency per posting (and the positions, for ``grams``)."""

    def __init__(self, positional: bool):
        self.positional = positional
        self.ids: dict[str, int] = {}  # term -> number, in order of first use
        self.t, self.d, self.f = array("I"), array("I"), array("H")
        self.p = array("H")

    def add(self, doc: int, tokens) -> int:
        """Add one document's tokens; how many postings that made."""
        ids = self.ids
        number = ids.setdefault  # a new term gets the next number (len before insertion)
        if self.positional:
            where: defaultdict[str, list[int]] = defaultdict(list)
            for term, pos in tokens:
                if pos <= postings.MAX_POSITION:
                    where[term].append(pos)
            self.t.extend([number(term, len(ids)) for term in where])
            self.f.extend([len(found) for found in where.values()])
            self.p.extend(chain.from_iterable(where.values()))
        else:
            where = Counter(tokens)
            self.t.extend([number(term, len(ids)) for term in where])
            self.f.extend([n if n < 65535 else 65535 for n in where.values()])
        self.d.extend([doc] * len(where))
        return len(where)

    def runs(self):
        """``(term, df, run)`` for every term, in term order. The postings are
        sorted as arrays and turned into Python lists :data:`RUN_CHUNK_TERMS`
        terms at a time (lists of a whole field cost about 36 bytes a posting)."""
        if not self.ids:
            return
        terms = list(self.ids)
        order = sorted(range(len(terms)), key=terms.__getitem__)
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        keys = rank[np.frombuffer(self.t, np.uint32)]
        sort = np.argsort(keys, kind="stable")  # documents stay in order within a term
        docs = np.frombuffer(self.d, np.uint32)[sort]
        freqs_np = np.frombuffer(self.f, np.uint16)
        freqs = freqs_np[sort]
        bounds = np.r_[0, np.flatnonzero(np.diff(keys[sort])) + 1, len(sort)].tolist()
        places = place_bounds = None
        if self.positional:
            counts = freqs_np.astype(np.int64)
            starts = np.cumsum(counts) - counts
            lengths = counts[sort]
            ends = np.cumsum(lengths)
            gather = np.repeat(starts[sort] - (ends - lengths), lengths) + np.arange(int(ends[-1]) if len(ends) else 0)
            places = np.frombuffer(self.p, np.uint16)[gather]
            place_bounds = np.r_[0, ends].tolist()
            del gather
        del keys, sort
        for first in range(0, len(order), RUN_CHUNK_TERMS):
            last = min(first + RUN_CHUNK_TERMS, len(order))
            lo0, hi0 = bounds[first], bounds[last]
            chunk_docs, chunk_freqs = docs[lo0:hi0].tolist(), freqs[lo0:hi0].tolist()
            if places is not None:
                base = place_bounds[lo0]
                chunk_places = places[base : place_bounds[hi0]].tolist()
            for j in range(first, last):
                lo, hi = bounds[j], bounds[j + 1]
                where = chunk_places[place_bounds[lo] - base : place_bounds[hi] - base] if places is not None else None
                yield terms[order[j]], hi - lo, postings.encode(chunk_docs[lo - lo0 : hi - lo0],
                                                                      chunk_freqs[lo - lo0 : hi - lo0], where)


class SegmentBuilder:
    """Writes one segment from analysed passages streamed report by report.

    Postings are inverted in memory until :data:`SPILL_POSTINGS` are held,
    then written out as a sorted pass; :meth:`finish` joins the passes term
    by term without decoding them (a term's entry keeps one run a pass), so
    memory stays bounded and a worker writes exactly one segment however
    large its range. Lengths, columns and reports stay in memory (a few
    bytes a passage); stored passages stream to disk."""

    def __init__(self, directory: Path, segment_id: str):
        self.dir, self.id = Path(directory), segment_id
        self.spill_at = SPILL_POSTINGS
        self.buffers = {name: _FieldBuffer(kind == "grams") for name, kind in schema.FIELDS.items()}
        self.held = 0
        self.passes: list[Path] = []
        self.lengths = {name: array("H") for name in schema.FIELDS}
        self.reports: list[dict] = []
        self.year, self.report, self.top, self.region = array("H"), array("I"), array("I"), array("H")
        self.codes: dict[str, dict[str, int]] = {"top": {}, "region": {}}
        self.count = 0
        self._stored_file = open(self.dir / f"{segment_id}.sto", "wb")
        self.stored = stored.Writer(self._stored_file)

    def __len__(self) -> int:
        return self.count

    def _code(self, table: str, value: str) -> int:
        if not value:
            return 0
        codes = self.codes[table]
        if value not in codes:
            codes[value] = len(codes) + 1
        return codes[value]

    def add_report(self, report, analyzed: list) -> None:
        """Add a report's analysed passages (:class:`~erqi_search.model.Analyzed`), in order."""
        if not analyzed:
            return
        if self.held >= self.spill_at:  # before, not after: a last (or only) report is never spilled
            self._spill()              # while its own tokens are still held by the caller
        r = len(self.reports)
        self.reports.append({"d": report.doc_id, "t": report.title, "y": report.year, "dt": report.date,
                             "r": report.region, "s": report.source, "sp": report.speaker,
                             "f": self.count, "n": len(analyzed)})
        for item in analyzed:
            self._add(item, r)

    def _add(self, item, r: int) -> None:
        doc = self.count
        self.count += 1
        p = item.passage
        for name in schema.FIELDS:
            tokens = item.fields.get(name, ())
            self.held += self.buffers[name].add(doc, tokens)
            self.lengths[name].append(min(len(tokens), 65535))
        self.stored.add({"o": p.ordinal, "s": list(p.section_path), "k": list(p.keywords),
                         "t": list(p.key_terms), "c": p.text, "a": list(p.span)})
        self.year.append(p.year or 0)
        self.report.append(r)
        self.top.append(self._code("top", p.section_path[0] if p.section_path else ""))
        self.region.append(self._code("region", item.region))

    def _runs(self):
        """``(key, df, run)`` of the held postings, in key order."""
        for name in schema.FIELDS:
            prefix = bytes([FIELD_IDS[name]])
            for term, df, run in self.buffers[name].runs():
                key = prefix + term.encode("utf-8")
                if len(key) <= lexicon.MAX_KEY:  # a heading over 84 characters is found by its words
                    yield key, df, run

    def _write_postings(self, base: Path, entries) -> None:
        """Write ``(key, value, bytes)`` entries as a postings file and its dictionary."""
        index = []
        with open(base.with_suffix(".pst"), "wb") as out:
            for key, value, data in entries:
                out.write(data)
                index.append((key, value, len(data)))
        with open(base.with_suffix(".lex"), "wb") as out:
            lexicon.write(out, index)

    def _spill(self) -> None:
        base = self.dir / f"{self.id}-pass{len(self.passes)}"
        self._write_postings(base, self._runs())
        self.passes.append(base)
        self.buffers = {name: _FieldBuffer(kind == "grams") for name, kind in schema.FIELDS.items()}
        self.held = 0

    def finish(self) -> dict:
        """Write the segment's files; return its description (for ``segments.json``)."""
        base = self.dir / self.id
        if not self.passes:
            self._write_postings(base, ((k, postings.entry_value(df), run) for k, df, run in self._runs()))
        else:
            if self.held:
                self._spill()
            self._write_postings(base, _joined_passes(self.passes))
            for spilled in self.passes:
                spilled.with_suffix(".pst").unlink()
                spilled.with_suffix(".lex").unlink()
        totals = {name: sum(self.lengths[name]) for name in schema.FIELDS}
        self.stored.close()
        self._stored_file.close()
        columns = {name: getattr(self, name) for name, _ in COLUMNS}
        tables = {name: sorted(codes, key=codes.get) for name, codes in self.codes.items()}
        write_tables(base, self.lengths, columns, self.reports, tables)
        return {"id": self.id, "doc_count": self.count, "reports": len(self.reports), "totals": totals,
                "deleted": []}

    def abandon(self) -> None:
        """Remove what was written (a failed write)."""
        self._stored_file.close()
        for spilled in self.passes:
            for suffix in (".pst", ".lex"):
                spilled.with_suffix(suffix).unlink(missing_ok=True)


def _joined_passes(passes: list[Path]):
    """The entries of several passes joined term by term: one pass's run as
    it is, several runs each after its posting count."""
    maps = [_map(p.with_suffix(".pst")) for p in passes]
    streams = [_pass_entries(lexicon.Lexicon(_map(p.with_suffix(".lex"))), i) for i, p in enumerate(passes)]
    for key, group in groupby(heapq.merge(*streams), key=lambda e: e[0]):
        group = list(group)
        if len(group) == 1:
            _, i, df, offset, length = group[0]
            yield key, postings.entry_value(df), bytes(maps[i][offset : offset + length])
            continue
        data = b"".join(postings.varint(df) + bytes(maps[i][offset : offset + length])
                        for _, i, df, offset, length in group)
        yield key, postings.entry_value(sum(e[2] for e in group), len(group)), data


def _pass_entries(lex, i: int):
    for key, df, offset, length in lex.scan(b""):
        yield key, i, df, offset, length


def _map(path: Path):
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""


class SegmentReader:
    """Reads one segment through memory maps (which keep its files readable
    after a later write deletes them, so an open index keeps its generation)."""

    def __init__(self, directory: Path, description: dict):
        self.id = description["id"]
        self.doc_count = n = description["doc_count"]
        self.totals = description["totals"]
        self.deleted = description.get("deleted") or []
        base = Path(directory) / self.id
        self.data = _map(base.with_suffix(".pst"))
        self.lexicon = lexicon.Lexicon(_map(base.with_suffix(".lex")))
        lengths = _map(base.with_suffix(".len"))
        width = np.dtype(LENGTH).itemsize
        self.lengths = {name: np.frombuffer(lengths, LENGTH, n, width * n * i) for i, name in enumerate(schema.FIELDS)}
        columns, offset = _map(base.with_suffix(".col")), 0
        for name, dtype in COLUMNS:  # self.year, self.report, self.top, self.region
            setattr(self, name, np.frombuffer(columns, dtype, n, offset))
            offset += np.dtype(dtype).itemsize * n
        self.stored = stored.Reader(_map(base.with_suffix(".sto")))
        self.reports = stored.Reader(_map(base.with_suffix(".rep")))
        self._report_cache: dict[int, dict] = {}
        self._tab_file = base.with_suffix(".tab")
        self._tables = None
        self._tab_handle = open(self._tab_file, "rb")  # readable after deletion

    def report_record(self, r: int) -> dict:
        """The stored record of report ``r`` (kept once read: reports are few)."""
        found = self._report_cache.get(r)
        if found is None:
            found = self._report_cache[r] = self.reports.get(r)
        return found

    def tables(self) -> dict[str, list[str]]:
        """The strings of the code columns: ``{"top": [...], "region": [...]}`` (code 1 is index 0)."""
        if self._tables is None:
            self._tables = json.loads(os.pread(self._tab_handle.fileno(),
                                               os.fstat(self._tab_handle.fileno()).st_size, 0))
        return self._tables

    def lookup(self, field: str, term: str) -> tuple[int, int, int] | None:
        """``(entry value, offset, length)`` of a term's entry, or ``None``
        (:func:`.postings.entry_parts` splits the value: document frequency, runs)."""
        return self.lexicon.get(key(field, term))

    def read(self, field: str, found: tuple[int, int, int], positional: bool = False):
        """The arrays of an entry found by :meth:`lookup` (local document numbers)."""
        value, offset, _ = found
        return postings.decode_entry(self.data, value, offset, positional, schema.FIELDS[field] == "grams")

    def terms_with_prefix(self, field: str, prefix: str, limit: int):
        """Up to ``limit`` ``(term, (df, offset, length))`` of ``field`` starting with ``prefix``."""
        head = bytes([FIELD_IDS[field]])
        out = []
        for k, df, offset, length in self.lexicon.scan(head + prefix.encode("utf-8")):
            out.append((k[1:].decode("utf-8"), (df, offset, length)))
            if len(out) >= limit:
                break
        return out

    def entries(self, field: str):
        """Every ``(term, (df, offset, length))`` of a field, in order."""
        head = bytes([FIELD_IDS[field]])
        for k, df, offset, length in self.lexicon.scan(head):
            yield k[1:].decode("utf-8"), (df, offset, length)

    def terms(self, field: str):
        """Every ``(term, df)`` of a field, in order."""
        for term, found in self.entries(field):
            yield term, postings.entry_parts(found[0])[0]

    def close(self) -> None:
        self._tab_handle.close()
