"""Warm query latency through the library API, beside SQLite FTS5.

    python bench/query_latency.py --index DIR [--repeat 5]

Runs the fixed query mix of bench/_common.py (rare and common terms,
multi-term, phrases, year filters) against an open index, after one warm-up
pass, and prints p50/p95/p99 overall and per kind. Then it loads the same
passages into an in-memory SQLite FTS5 table over the same words
(erqi-search's own segmentation, space-separated) and times the equivalent
FTS5 queries (bm25 ranking, top 10, with the total count, as erqi-search
returns). Goals: p50 <= 10 ms, p99 <= 100 ms, faster than FTS5.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine, percentile, time_queries  # noqa: E402


def fts5_runner(index):
    """An FTS5 table of the index's passages and a function running a query mix entry."""
    from erqi_search.analysis import tokenize, words

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE p USING fts5(body, year UNINDEXED, tokenize='unicode61')")
    rows = ((" ".join(t.text for t in tokenize(p.text, index.segmenter, stop=False)), p.year)
            for p in index.all_passages())
    db.executemany("INSERT INTO p(body, year) VALUES (?, ?)", rows)
    db.commit()

    def to_fts(query: str) -> tuple[str, tuple]:
        year = re.search(r"year:(\[(\d{4}) TO (\d{4})\]|(\d{4}))", query)
        text = re.sub(r"year:\S+( TO \d{4}\])?", "", query).strip()
        phrase = text.startswith('"')
        terms = words(text.strip('"'), index.segmenter)
        match = '"' + " ".join(terms) + '"' if phrase else " OR ".join(f'"{t}"' for t in terms)
        if not year:
            return "body MATCH ?", (match,)
        low, high = (year.group(2), year.group(3)) if year.group(2) else (year.group(4), year.group(4))
        return "body MATCH ? AND year BETWEEN ? AND ?", (match, int(low), int(high))

    def run(query: str):
        where, params = to_fts(query)
        top = db.execute(f"SELECT rowid, body FROM p WHERE {where} ORDER BY bm25(p) LIMIT 10", params).fetchall()
        total = db.execute(f"SELECT count(*) FROM p WHERE {where}", params).fetchone()[0]
        return top, total

    return run


def report(label: str, times: dict[str, list[float]]) -> float:
    every = [t for ts in times.values() for t in ts]
    p50 = percentile(every, 50)
    print(f"{label:<14} p50 {p50:8.1f} ms   p95 {percentile(every, 95):8.1f} ms   p99 {percentile(every, 99):8.1f} ms")
    for kind, ts in times.items():
        print(f"  {kind:<12} p50 {percentile(ts, 50):8.1f} ms   max {max(ts):8.1f} ms")
    return p50


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-fts5", action="store_true")
    args = ap.parse_args()

    from erqi_search import open_index

    with open_index(args.index) as index:
        print(f"Warm query latency on {args.index} ({index.passage_count:,} passages), {machine()}")
        erqi = report("erqi-search", time_queries(lambda q: index.search(q, limit=10), args.repeat))
        if not args.no_fts5:
            start = time.perf_counter()
            run = fts5_runner(index)
            print(f"(FTS5 table loaded in {time.perf_counter() - start:.0f} s)")
            fts = report("SQLite FTS5", time_queries(run, args.repeat))
            print(f"p50 ratio erqi-search ÷ FTS5: {erqi / fts:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
