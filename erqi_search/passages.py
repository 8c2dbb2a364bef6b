"""Report -> passages: paragraph-sized units that remember their section path.

Headings are kept in the text of the passage they introduce, so that every
character of a report's display text lands in exactly one passage. A
section path follows the heading ranks that :mod:`erqi_search.outline` gives;
it shows a heading without its final ``。``. Fragments
shorter than :data:`MIN_CHARS` merge into a neighbour of the same section;
paragraphs longer than :data:`MAX_CHARS` are split at sentence ends.

>>> from erqi_search.ingest import read_report
>>> report = read_report("seeds/001_a8b229ab2cc41fd9.txt")
>>> coal = next(p for p in cut_passages(report) if "散煤" in p.text)
>>> coal.section_path, coal.keywords
(('【靠抓手 见成效】', '大气污染防治'), ('大气污染防治',))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Block, Passage, Report
from .outline import heading_label

MIN_CHARS = 20
MAX_CHARS = 400
_SENTENCE = re.compile(r"[^。！？!?；;]*[。！？!?；;]+[”’」』）)]*|[^。！？!?；;]+$")
_CLAUSE = re.compile(r"[^，,、：:]*[，,、：:]+|[^，,、：:]+$")


@dataclass
class _Unit:
    start: int
    end: int
    body: int  # characters of paragraph text (headings excluded)
    path: tuple[tuple[str, str], ...]  # (display, keyword) per heading


def split_long(text: str, limit: int = MAX_CHARS) -> list[tuple[int, int]]:
    """Split ``text`` into spans of at most ``limit`` characters at sentence ends
    (clause ends, or hard cuts, for sentences longer than the limit).

    >>> split_long("甲。" * 3, limit=4)
    [(0, 4), (4, 6)]
    """
    if len(text) <= limit:
        return [(0, len(text))]
    pieces = []
    for m in _SENTENCE.finditer(text):
        if m.end() - m.start() <= limit:
            pieces.append((m.start(), m.end()))
            continue
        for c in _CLAUSE.finditer(text, m.start(), m.end()):
            for s in range(c.start(), c.end(), limit):
                pieces.append((s, min(s + limit, c.end())))
    spans: list[tuple[int, int]] = []
    for start, end in pieces:
        if spans and end - spans[-1][0] <= limit:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _units(blocks: list[Block]) -> list[_Unit]:
    units: list[_Unit] = []
    stack: list[tuple[int, str, str]] = []  # (rank, display, keyword)
    offset, pending = 0, None
    for block in blocks:
        start, end = offset, offset + len(block.text)
        offset = end + 1
        if block.kind == "heading":
            while stack and stack[-1][0] >= block.rank:
                stack.pop()
            stack.append((block.rank, block.keyword or heading_label(block.text), block.keyword))
            pending = start if pending is None else pending
            continue
        path = tuple((display, keyword) for _, display, keyword in stack)
        for i, (s, e) in enumerate(split_long(block.text)):
            unit_start = pending if (i == 0 and pending is not None) else start + s
            units.append(_Unit(unit_start, start + e, e - s, path))
        pending = None
    if pending is not None:
        if units:
            units[-1].end = offset - 1
        else:
            units.append(_Unit(pending, offset - 1, 0, tuple((d, k) for _, d, k in stack)))
    return units


def _merge_short(units: list[_Unit]) -> list[_Unit]:
    """Merge units with fewer than MIN_CHARS of text into a same-section
    neighbour: the next one if it can, else the previous one."""
    out: list[_Unit] = []
    carry: _Unit | None = None

    def join(a: _Unit, b: _Unit) -> _Unit:
        return _Unit(a.start, b.end, a.body + b.body, b.path)

    for unit in units + [None]:
        if carry is not None:
            if unit is not None and carry.path == unit.path:
                unit = join(carry, unit)
            elif out and out[-1].path == carry.path:
                out[-1] = join(out[-1], carry)
            else:
                out.append(carry)
            carry = None
        if unit is None:
            break
        if unit.body < MIN_CHARS:
            carry = unit
        else:
            out.append(unit)
    return out


def cut_passages(report: Report, extract_terms=None) -> list[Passage]:
    """Cut a report into passages.

    ``extract_terms(text) -> tuple[str, ...]`` computes each passage's key
    terms; without it they are left empty (the indexer derives them from the
    tokens it makes anyway, see :func:`erqi_search.analysis.analyze_passages`).
    """
    text = report.text
    passages = []
    for n, unit in enumerate(_merge_short(_units(report.blocks)), start=1):
        body = text[unit.start : unit.end]
        keywords = tuple(dict.fromkeys(k for _, k in unit.path if k))
        passages.append(
            Passage(
                doc_id=report.doc_id,
                passage_id=f"{report.doc_id}#{n:03d}",
                ordinal=n,
                title=report.title,
                year=report.year,
                date=report.date,
                region=report.region,
                source=report.source,
                section_path=tuple(display for display, _ in unit.path),
                keywords=keywords,
                key_terms=tuple(extract_terms(body)) if extract_terms else (),
                text=body,
                span=(unit.start, unit.end),
            )
        )
    return passages


def _cut_with_key_terms(report: Report, with_key_terms: bool = True) -> list[Passage]:
    """What the deprecated ``Report.passages`` returned: passages with key terms."""
    from .analysis import key_terms

    return cut_passages(report, key_terms if with_key_terms else None)


Report._cutter = _cut_with_key_terms
