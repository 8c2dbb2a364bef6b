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

import json
import mmap
import os
import sys
from array import array
from pathlib import Path

import numpy as np

from ... import lexicon, schema
from . import postings, stored

FIELD_IDS = {name: i + 1 for i, name in enumerate(schema.FIELDS)}
SUFFIXES = ("pst", "lex", "len", "col", "sto", "rep", "tab")


def key(field: str, term: str) -> bytes:
    """The dictionary key of ``term`` in ``field``."""
    return bytes([FIELD_IDS[field]]) + term.encode("utf-8")


class SegmentBuilder:
    """Inverts analysed passages in memory, report by report, and writes them
    as one segment. ``postings`` counts what is held, so the caller can start
    a new segment when memory grows."""

    def __init__(self):
        self.tables: dict[str, dict[str, list]] = {name: {} for name in schema.FIELDS}
        self.lengths = {name: array("H") for name in schema.FIELDS}
        self.records: list[dict] = []
        self.reports: list[dict] = []
        self.year, self.report, self.top, self.region = array("H"), array("I"), array("I"), array("H")
        self.codes: dict[str, dict[str, int]] = {"top": {}, "region": {}}
        self.postings = 0

    def __len__(self) -> int:
        return len(self.records)

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
        r = len(self.reports)
        self.reports.append({"d": report.doc_id, "t": report.title, "y": report.year, "dt": report.date,
                             "r": report.region, "s": report.source, "sp": report.speaker,
                             "f": len(self.records), "n": len(analyzed)})
        for item in analyzed:
            self._add(item, r)

    def _add(self, item, r: int) -> None:
        doc = len(self.records)
        p = item.passage
        for name, kind in schema.FIELDS.items():
            tokens = item.fields.get(name, ())
            table = self.tables[name]
            if kind == "grams":
                where: dict[str, list[int]] = {}
                for term, pos in tokens:
                    if pos <= postings.MAX_POSITION:
                        where.setdefault(term, []).append(pos)
                for term, found in where.items():
                    entry = table.get(term)
                    if entry is None:
                        entry = table[term] = [array("i"), array("H"), array("H")]
                    entry[0].append(doc)
                    entry[1].append(len(found))
                    entry[2].extend(found)
                self.postings += len(where)
            else:
                counts: dict[str, int] = {}
                for term in tokens:
                    counts[term] = counts.get(term, 0) + 1
                for term, n in counts.items():
                    entry = table.get(term)
                    if entry is None:
                        entry = table[term] = [array("i"), array("H")]
                    entry[0].append(doc)
                    entry[1].append(min(n, 65535))
                self.postings += len(counts)
            self.lengths[name].append(min(len(tokens), 65535))
        self.records.append({"o": p.ordinal, "s": list(p.section_path), "k": list(p.keywords),
                             "t": list(p.key_terms), "c": p.text, "a": list(p.span)})
        self.year.append(p.year or 0)
        self.report.append(r)
        self.top.append(self._code("top", p.section_path[0] if p.section_path else ""))
        self.region.append(self._code("region", item.region))

    def vocabulary(self):
        """Every term of the fields a query word may be looked up in."""
        for name in schema.VOCABULARY_FIELDS:
            yield from self.tables[name]

    def write(self, directory: Path, segment_id: str) -> dict:
        """Write the segment's files; return its description (for ``segments.json``)."""
        directory = Path(directory)
        entries = []
        totals = {}
        with open(directory / f"{segment_id}.pst", "wb") as out:
            for name, kind in schema.FIELDS.items():
                prefix = bytes([FIELD_IDS[name]])
                table = self.tables[name]
                for term in sorted(table):
                    k = prefix + term.encode("utf-8")
                    if len(k) > lexicon.MAX_KEY:
                        continue  # a heading over 84 characters: found by its words instead
                    entry = table[term]
                    run = postings.encode(entry[0], entry[1], entry[2] if kind == "grams" else None)
                    out.write(run)
                    entries.append((k, len(entry[0]), len(run)))
                totals[name] = sum(self.lengths[name])
        with open(directory / f"{segment_id}.lex", "wb") as out:
            lexicon.write(out, entries)
        with open(directory / f"{segment_id}.len", "wb") as out:
            for name in schema.FIELDS:
                out.write(_little(self.lengths[name]).tobytes())
        with open(directory / f"{segment_id}.col", "wb") as out:
            for column in (self.year, self.report, self.top, self.region):
                out.write(_little(column).tobytes())
        with open(directory / f"{segment_id}.sto", "wb") as out:
            stored.write(out, self.records)
        with open(directory / f"{segment_id}.rep", "wb") as out:
            stored.write(out, self.reports, zdict=b"")
        tables = {name: sorted(codes, key=codes.get) for name, codes in self.codes.items()}
        (directory / f"{segment_id}.tab").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
        return {"id": segment_id, "doc_count": len(self.records), "reports": len(self.reports),
                "totals": totals, "deleted": []}


def _little(column: array) -> array:
    if sys.byteorder == "big":
        column = array(column.typecode, column)
        column.byteswap()
    return column


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
        self.lengths = {name: np.frombuffer(lengths, "<u2", n, 2 * n * i) for i, name in enumerate(schema.FIELDS)}
        columns = _map(base.with_suffix(".col"))
        self.year = np.frombuffer(columns, "<u2", n, 0)
        self.report = np.frombuffer(columns, "<u4", n, 2 * n)
        self.top = np.frombuffer(columns, "<u4", n, 6 * n)
        self.region = np.frombuffer(columns, "<u2", n, 10 * n)
        self.stored = stored.Reader(_map(base.with_suffix(".sto")))
        self.reports = stored.Reader(_map(base.with_suffix(".rep")))
        self._tab_file = base.with_suffix(".tab")
        self._tables = None
        self._tab_handle = open(self._tab_file, "rb")  # readable after deletion

    def tables(self) -> dict[str, list[str]]:
        """The strings of the code columns: ``{"top": [...], "region": [...]}`` (code 1 is index 0)."""
        if self._tables is None:
            self._tables = json.loads(os.pread(self._tab_handle.fileno(),
                                               os.fstat(self._tab_handle.fileno()).st_size, 0))
        return self._tables

    def lookup(self, field: str, term: str) -> tuple[int, int, int] | None:
        """``(document frequency, offset, length)`` of a term's run, or ``None``."""
        return self.lexicon.get(key(field, term))

    def read(self, field: str, found: tuple[int, int, int], positional: bool = False):
        """The arrays of a run found by :meth:`lookup` (local document numbers)."""
        df, offset, _ = found
        return postings.decode(self.data, df, offset, positional)

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
            yield term, found[0]

    def close(self) -> None:
        self._tab_handle.close()
