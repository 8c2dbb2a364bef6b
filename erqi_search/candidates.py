"""Candidate policy terms from a corpus, for review before they join
``data/policy_terms.txt`` (``erqi-search dictionary candidates SOURCE...``).

>>> from erqi_search.ingest import read_report
>>> "主要经济指标" in grow_candidates([read_report("seeds/001_a8b229ab2cc41fd9.txt")])
True
"""

from __future__ import annotations

import re
from collections import Counter

from .dictionary import Segmenter, full_segmenter
from .text import HAN, normalize_text


def grow_candidates(reports, segmenter: Segmenter | None = None, min_count: int = 3) -> list[str]:
    """Candidate policy terms from reports: 关键词, quoted phrases, short headings,
    and recurring word pairs that the dictionary does not know as one word."""
    seg = segmenter or full_segmenter()
    found: Counter = Counter()
    pairs: Counter = Counter()
    for report in reports:
        for block in report.blocks:
            if block.keyword:
                found[block.keyword] += min_count
            elif block.kind == "heading" and re.fullmatch(f"[{HAN}]{{3,8}}", block.text):
                found[block.text] += 1
            for quoted in re.findall(f"“([{HAN}]{{2,8}})”", block.text):
                found[quoted] += 1
            for run in re.findall(f"[{HAN}]+", normalize_text(block.text)):
                words = seg.cut(run)
                for a, b in zip(words, words[1:]):
                    if len(a) >= 2 and len(b) >= 2 and len(a + b) <= 6:
                        pairs[a + b] += 1
    found.update({w: c for w, c in pairs.items() if c >= min_count})
    return sorted(w for w, c in found.items() if normalize_text(w) not in seg)
