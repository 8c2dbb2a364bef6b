"""The embedded engine: packed postings in Whoosh segments, read and evaluated
with numpy in this process. The default engine.

A generation directory of the store holds the segments (:mod:`.segment`),
``segments.json`` (their order and deletions) and Whoosh's table of contents
(:mod:`.codec`). Writes go through :class:`EmbeddedWriter`: each worker of a
build fills its own segments (:class:`PartitionWriter`), and the commit lists
them in file order, so document numbers and results equal a single-process
build; an update marks deletions in the segments it keeps and adds a small
segment, and a tiered merge policy keeps the number of segments bounded.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...plan import Plan
from .reader import SEGMENTS, GenerationReader, read_segments, report_prefix
from .segment import SUFFIXES, SegmentBuilder

class EmbeddedEngine:
    """Answers plans over one generation of an embedded index."""

    name = "embedded"

    def __init__(self, gen: Path):
        self.reader = GenerationReader(gen)

    def search(self, plan: Plan, need: int, facets: bool = False):
        from .evaluate import evaluate

        return evaluate(self.reader, plan, need, facets)

    def explain(self, plan: Plan, ids: list[int]) -> list[list[dict]]:
        from .evaluate import explain

        return explain(self.reader, plan, ids)

    def passages(self, ids: list[int]):
        return [self.reader.passage(int(i)) for i in ids]

    def find_passage(self, passage_id: str):
        doc_id, _, number = passage_id.rpartition("#")
        found = self.reader.report_range(doc_id)
        if found is None or not number.isdigit() or not 1 <= int(number) <= found[1]:
            return None
        return self.reader.passage(found[0] + int(number) - 1)

    def document(self, doc_id: str):
        found = self.reader.report_range(doc_id)
        if found is None:
            return []
        first, n = found
        return [self.reader.passage(first + i) for i in range(n)]

    def all_passages(self):
        """Every live passage, report by report."""
        for doc_id, (first, n) in self.reader.report_ranges().items():
            for i in range(n):
                yield self.reader.passage(first + i)

    def doc_frequency(self, term: str, field: str = "content") -> int:
        return self.reader.doc_frequency(field, term)

    def year_totals(self) -> dict[int, int]:
        import numpy as np

        years = self.reader.years
        if self.reader.live is not None:
            years = years[self.reader.live]
        counts = np.bincount(years.astype(np.int64))
        return {int(y): int(counts[y]) for y in np.flatnonzero(counts) if y}

    @property
    def passage_count(self) -> int:
        return self.reader.doc_count

    def close(self) -> None:
        self.reader.close()


class PartitionWriter:
    """Writes one segment from one worker's contiguous range of reports.
    Picklable until its first report, so a worker process can be handed one."""

    def __init__(self, gen: Path, partition: int):
        self.gen, self.partition = Path(gen), partition
        self._builder: SegmentBuilder | None = None

    def add(self, report, analyzed: list) -> None:
        if self._builder is None:
            name = f"MAIN_{self.partition:04d}{os.urandom(4).hex()}"
            self._builder = SegmentBuilder(self.gen, name)
        self._builder.add_report(report, analyzed)

    def finish(self) -> list[dict]:
        """Write the segment; the descriptions of the segments written (none
        when no report could be read)."""
        if self._builder is None or not len(self._builder):
            if self._builder is not None:
                self._builder.abandon()
            return []
        return [self._builder.finish()]


class EmbeddedWriter:
    """Writes a new generation: the kept segments of ``base`` (hard-linked by
    the store), with deletions marked, then the partitions' new segments."""

    def __init__(self, gen: Path, base: Path | None = None):
        self.gen = Path(gen)
        self.kept = read_segments(base)["segments"] if base is not None else []
        if base is not None:
            for description in self.kept:
                for suffix in SUFFIXES:
                    name = f"{description['id']}.{suffix}"
                    os.link(Path(base) / name, self.gen / name)
        self._base = base

    def partition(self, i: int) -> PartitionWriter:
        return PartitionWriter(self.gen, i)

    def delete(self, doc_ids: set[str]) -> int:
        """Mark every passage of the reports ``doc_ids`` deleted; how many were."""
        if not doc_ids or not self.kept:
            return 0
        reader = GenerationReader(self._base)
        count = 0
        try:
            prefixes = tuple(report_prefix(d) for d in doc_ids)
            for description, seg in zip(self.kept, reader.segments):
                deleted = set(description.get("deleted") or [])
                for record in _candidate_reports(seg.reports, prefixes):
                    if record["d"] in doc_ids:
                        span = range(record["f"], record["f"] + record["n"])
                        count += len(set(span) - deleted)
                        deleted.update(span)
                description["deleted"] = sorted(deleted)
        finally:
            reader.close()
        return count

    def commit(self, partitions: list[list[dict]]) -> dict:
        """List the segments in order and write ``segments.json`` and Whoosh's
        table of contents; return the segment list."""
        from .codec import write_toc
        from .merge import apply_merge_policy

        segments = [d for d in self.kept if len(d.get("deleted") or []) < d["doc_count"]]
        for gone in (d for d in self.kept if d not in segments):
            for suffix in SUFFIXES:
                (self.gen / f"{gone['id']}.{suffix}").unlink(missing_ok=True)
        segments += [d for written in partitions for d in written]
        segments = apply_merge_policy(self.gen, segments)
        described = {"segments": segments}
        from ...store import write_json

        write_json(self.gen / SEGMENTS, described, compact=True)
        write_toc(self.gen, segments)
        return described


def _candidate_reports(reports, prefixes: tuple[str, ...]):
    """The report records that may be those whose lines start with
    ``prefixes``: found by their lines for a few reports, all of them for many."""
    if len(prefixes) > 64:
        return iter(reports)
    return (record for _, record in reports.starting_with(*prefixes))
