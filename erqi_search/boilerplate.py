"""Corpus boilerplate: the *trailing template block* of scraped files.

Reports scraped from web pages end with debris that repeats from file to
file: a licence footer, a "view the original" link, a separator and a
timestamp. Frequency alone cannot tell it from real repeated lines (the
salutation ``各位代表：`` is in most government reports, ``第一章 总则`` in most
laws); position can. Boilerplate is the maximal run of lines at the *end*
of a file whose shapes recur at the ends of many files of the same
directory:

* a line's *shape* blanks what varies from copy to copy: URLs and runs of
  six or more digits (ids, timestamps); short numbers are kept, so the last
  article of a law (``本条例自2021年1月1日起施行``) is not a template;
* a shape is *frequent* in a directory of N report files when it is among
  the last :data:`TAIL_LINES` lines of at least ``max(5, 2% of N)`` of them
  (files whose last lines are all the same, copies of one report, count once);
* a file loses the run of frequent lines that ends at its last line, but
  never its first line and never a line with outline numbering.

Nothing is removed from the middle or the head of a file. The frequent
shapes come from the corpus itself (:func:`erqi_search.ingest.template_tails`
reads the files), so this works for any corpus and ships no list.

>>> tails = template_shapes([[f"正文{n}。", "本作品属于公有领域", "Public domain"] for n in range(5)] + [["正文。"]] * 5)
>>> sorted(tails)
['Public domain', '本作品属于公有领域']
>>> strip_template_tail(["各位代表：", "正文。", "", "本作品属于公有领域", "Public domain"], tails)
(['各位代表：', '正文。', ''], ['本作品属于公有领域', 'Public domain'])
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Sequence

from .outline import PAGE_BREAK, outline_style

#: How many last non-blank lines of a file are read for the template.
TAIL_LINES = 40
#: A shape is frequent in at least this many files ...
MIN_FILES = 5
#: ... and at least this share of a directory's files.
MIN_SHARE = 0.02

_URL = re.compile(r"https?://[^\s)）\]]+")
_LONG_NUMBER = re.compile(r"[0-9０-９]{6,}")


def shape(line: str) -> str:
    """A normalised line with its volatile parts blanked.

    >>> shape("[查看原文](https://tv.cctv.com/2022/09/25/VIDE9d.shtml)"), shape("(更新时间戳: 1664109102894)")
    ('[查看原文](URL)', '(更新时间戳: 0)')
    >>> shape("第四十五条 本条例自2021年1月1日起施行。")
    '第四十五条 本条例自2021年1月1日起施行。'
    """
    return _LONG_NUMBER.sub("0", _URL.sub("URL", line))


def min_files(n_files: int) -> int:
    """How many files of a directory of ``n_files`` a frequent shape is in."""
    return max(MIN_FILES, math.ceil(MIN_SHARE * n_files))


def _is_content(line: str) -> bool:
    return line not in ("", PAGE_BREAK)


def _tail_start(lines: Sequence[str], is_template) -> int:
    """Where the trailing run of template lines of ``lines`` starts."""
    content = [i for i, line in enumerate(lines) if _is_content(line)]
    cut = len(lines)
    for i in reversed(content[1:]):  # never the first line
        if not is_template(lines[i]) or outline_style(lines[i]):
            break
        cut = i
    return cut


def template_shapes(tails: Iterable[Sequence[str]]) -> frozenset[str]:
    """The shapes that form trailing template runs in one directory, given
    the normalised last lines of each of its files (blank lines may be
    included or not)."""
    tails = [list(t) for t in tails]
    # copies of one file (a report filed twice) vote once
    distinct = dict.fromkeys(tuple(line for line in tail if _is_content(line)) for tail in tails)
    df = Counter(s for tail in distinct for s in {shape(line) for line in tail})
    frequent = {s for s, n in df.items() if n >= min_files(len(distinct))}
    found: set[str] = set()
    for tail in tails:
        start = _tail_start(tail, lambda line: shape(line) in frequent)
        found.update(shape(line) for line in tail[start:] if _is_content(line))
    return frozenset(found)


def strip_template_tail(lines: list[str], tails: frozenset[str]) -> tuple[list[str], list[str]]:
    """Split normalised ``lines`` into the kept lines and the trailing
    template lines (non-blank) whose shapes are in ``tails``."""
    if not tails:
        return lines, []
    start = _tail_start(lines, lambda line: shape(line) in tails)
    return lines[:start], [line for line in lines[start:] if _is_content(line)]
