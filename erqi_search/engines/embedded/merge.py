"""Merging segments, and the tiered policy that decides when.

An update adds a small segment and marks deletions in the others; without
merging, segments would pile up (every one costs a dictionary look-up per
query term). The policy, after Lucene's tiered merging: segments fall into
size tiers (live documents, powers of :data:`MERGE_FACTOR` above
:data:`FLOOR`); when a tier holds :data:`MERGE_FACTOR` segments they are
merged into one of the next tier, and a segment with more deleted than live
documents is rewritten. So a write merges small segments often and large
ones rarely: adding one file never rewrites the whole index.

A merge reads the postings of each term from every segment, drops deleted
documents, renumbers the rest in order and writes them again; statistics
are computed over live documents anyway, so scores do not change.
"""

from __future__ import annotations

import heapq
import math
import secrets
from itertools import groupby
from pathlib import Path

import numpy as np

from ... import lexicon, schema
from . import postings, stored
from .segment import SUFFIXES, SegmentReader, key, write_tables

MERGE_FACTOR = 4
#: Segments with at most this many live documents share the lowest tier.
FLOOR = 2000


def live_count(description: dict) -> int:
    return description["doc_count"] - len(description.get("deleted") or [])


def tier(description: dict) -> int:
    live = live_count(description)
    return 0 if live <= FLOOR else int(math.log(live / FLOOR, MERGE_FACTOR)) + 1


def apply_merge_policy(gen: Path, segments: list[dict]) -> list[dict]:
    """The segment list after the merges the policy asks for (files written in ``gen``)."""
    segments = list(segments)
    while True:
        pick = _next_merge(segments)
        if not pick:
            return segments
        merged = merge_segments(gen, pick)
        at = segments.index(pick[0])
        segments = [s for s in segments if s not in pick]
        if merged is not None:
            segments.insert(min(at, len(segments)), merged)
        for gone in pick:
            for suffix in SUFFIXES:
                (Path(gen) / f"{gone['id']}.{suffix}").unlink(missing_ok=True)


def _next_merge(segments: list[dict]) -> list[dict]:
    for d in segments:
        if len(d.get("deleted") or []) > live_count(d):
            return [d]
    tiers: dict[int, list[dict]] = {}
    for d in segments:
        tiers.setdefault(tier(d), []).append(d)
    for level in sorted(tiers):
        if len(tiers[level]) >= MERGE_FACTOR:
            return tiers[level][:MERGE_FACTOR]
    return []


def merge_segments(gen: Path, descriptions: list[dict]) -> dict | None:
    """Write one segment holding the live documents of ``descriptions``, in
    order; return its description (``None`` when nothing is live)."""
    gen = Path(gen)
    readers = [SegmentReader(gen, d) for d in descriptions]
    try:
        remaps, base = [], 0
        for seg in readers:
            live = np.ones(seg.doc_count, bool)
            live[seg.deleted] = False
            remap = np.full(seg.doc_count, -1, np.int64)
            remap[live] = base + np.arange(int(live.sum()))
            base += int(live.sum())
            remaps.append((live, remap))
        if base == 0:
            return None
        new_id = f"MAIN_m{secrets.token_hex(6)}"
        out_base = gen / new_id
        entries = []
        with open(out_base.with_suffix(".pst"), "wb") as out:
            for field, kind in schema.FIELDS.items():
                positional = kind == "grams"
                streams = [_tagged(seg.entries(field), i) for i, seg in enumerate(readers)]
                for term, group in groupby(heapq.merge(*streams, key=lambda e: e[0]), key=lambda e: e[0]):
                    docs, freqs, places = [], [], []
                    for _, i, found in group:
                        arrays = readers[i].read(field, found, positional)
                        new = remaps[i][1][arrays[0]]
                        keep = new >= 0
                        docs.append(new[keep])
                        freqs.append(arrays[1][keep])
                        if positional:
                            places.append(arrays[2][np.repeat(keep, arrays[1].astype(np.int64))])
                    d = np.concatenate(docs)
                    if not len(d):
                        continue
                    run = postings.encode(d, np.concatenate(freqs), np.concatenate(places) if positional else None)
                    out.write(run)
                    entries.append((key(field, term), postings.entry_value(len(d)), len(run)))
        with open(out_base.with_suffix(".lex"), "wb") as out:
            lexicon.write(out, entries)
        pairs = list(zip(readers, remaps))
        lengths = {field: np.concatenate([seg.lengths[field][live] for seg, (live, _) in pairs]) for field in schema.FIELDS}
        totals = {field: int(column.sum(dtype=np.int64)) for field, column in lengths.items()}
        tables, report_remaps, code_remaps = _merged_tables(readers, remaps)
        columns = {
            "year": np.concatenate([seg.year[live] for seg, (live, _) in pairs]),
            "report": np.concatenate([report_remaps[i][seg.report[live]] for i, (seg, (live, _)) in enumerate(pairs)]),
            **{column: np.concatenate([code_remaps[column][i][getattr(seg, column)[live]]
                                       for i, (seg, (live, _)) in enumerate(pairs)]) for column in ("top", "region")},
        }
        records = (record for seg, (live, _) in pairs  # streamed, as a build writes them
                   for record, alive in zip(seg.stored, live.tolist()) if alive)
        with open(out_base.with_suffix(".sto"), "wb") as out:
            stored.write(out, records)
        reports = tables.pop("reports")
        write_tables(out_base, lengths, columns, reports, tables)
        return {"id": new_id, "doc_count": base, "reports": len(reports), "totals": totals, "deleted": []}
    finally:
        for seg in readers:
            seg.close()


def _tagged(entries, i: int):
    """``(term, i, found)`` for each of a segment's ``(term, found)``."""
    for term, found in entries:
        yield term, i, found


def _merged_tables(readers, remaps):
    """The merged report table and code tables, and each segment's maps from
    its old report indexes and codes to the new ones."""
    reports, report_remaps = [], []
    next_doc = 0
    for seg, (live, _) in zip(readers, remaps):
        mapping = np.zeros(max(len(seg.reports), 1), np.int64)
        for r, record in enumerate(seg.reports):
            alive = int(live[record["f"] : record["f"] + record["n"]].sum())
            if alive:
                mapping[r] = len(reports)
                reports.append({**record, "f": next_doc, "n": alive})
                next_doc += alive
        report_remaps.append(mapping)
    tables = {"reports": reports}
    code_remaps = {}
    for column in ("top", "region"):
        merged: dict[str, int] = {}
        per_segment = []
        for seg in readers:
            strings = seg.tables()[column]
            mapping = np.zeros(len(strings) + 1, np.int64)
            for code, value in enumerate(strings, start=1):
                mapping[code] = merged.setdefault(value, len(merged) + 1)
            per_segment.append(mapping)
        tables[column] = sorted(merged, key=merged.get)
        code_remaps[column] = per_segment
    return tables, report_remaps, code_remaps
