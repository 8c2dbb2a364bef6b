"""MRR@10 and hits on the dev queries: erqi-search beside the naive baseline.

    python bench/relevance.py [--queries FILE] [--k 10] [--verbose]

erqi-search is asked through its library API (the same answers the
``search --format json`` command prints); the baseline is jieba's stock
ChineseAnalyzer on Whoosh defaults over blank-line paragraphs
(bench/baselines/naive.py). Both index ../shared/seeds' copy in seeds/.
Scoring follows ../shared/eval/evaluate.py: a hit is relevant when its text
contains a marker, and a query with a year must see only that year.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DEV_QUERIES, ROOT, evaluate_module, machine  # noqa: E402
from bench.baselines import naive  # noqa: E402


def score(queries, run, k, norm):
    rows, rr, found, year_bad = [], 0.0, 0, 0
    for q in queries:
        hits = run(q["query"], k)
        markers = [norm(m) for m in q["relevant"]]
        rank = next((i + 1 for i, h in enumerate(hits[:k]) if any(m in norm(h["text"]) for m in markers)), None)
        if "year" in q and any(h["year"] != q["year"] for h in hits):
            year_bad += 1
        rr += 1 / rank if rank else 0
        found += bool(rank)
        rows.append(rank)
    n = max(len(queries), 1)
    return rows, rr / n, found, year_bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", default=str(DEV_QUERIES))
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--verbose", action="store_true", help="one line per query")
    args = ap.parse_args()
    queries = [json.loads(line) for line in open(args.queries, encoding="utf-8") if line.strip()]
    norm = evaluate_module().norm

    from erqi_search import build_index, open_index
    from erqi_search.errors import ErqiSearchError

    work = Path(tempfile.mkdtemp(prefix="erqi-relevance-"))
    build_index([ROOT / "seeds"], work / "erqi", jobs=1)
    naive.build([ROOT / "seeds"], work / "naive")

    with open_index(work / "erqi") as index:
        def run_erqi(query, k):
            try:
                return [{"text": h.text, "year": h.year} for h in index.search(query, limit=k).hits]
            except ErqiSearchError:
                return []

        def run_naive(query, k):
            try:
                return naive.search(work / "naive", query, k)
            except Exception:  # noqa: BLE001 - the baseline's parser fails on some queries
                return []

        results = {name: score(queries, fn, args.k, norm) for name, fn in
                   (("erqi-search", run_erqi), ("naive baseline", run_naive))}

    print(f"Relevance on {Path(args.queries).name} ({len(queries)} queries), {machine()}")
    print(f"{'system':<16} {'MRR@' + str(args.k):>8} {'found':>7} {'year violations':>16}")
    for name, (_, mrr, found, year_bad) in results.items():
        print(f"{name:<16} {mrr:>8.3f} {found:>4}/{len(queries):<2} {year_bad:>16}")
    if args.verbose:
        print(f"\n{'id':<5} {'erqi':>5} {'naive':>6}  query")
        for q, a, b in zip(queries, results["erqi-search"][0], results["naive baseline"][0]):
            print(f"{q['id']:<5} {a or '-':>5} {b or '-':>6}  {q['query']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
