"""The Sphinx engine on a local cluster beside the embedded engine: bulk
load, warm latency and whether both answer alike.

    python bench/sphinx_cluster.py [--corpus gov_reports] [--shards 2] [--mirrors 1] [--repeat 5]

Starts a throw-away cluster with scripts/sphinx-cluster (every node on
127.0.0.1; stopped at the end), builds the corpus on it and into an embedded
index, then runs the query mix of bench/_common.py on both (after a warm-up
pass) and prints load throughput, p50/p95/p99, and how many queries give the
same top 10 (ids and scores), totals and facets on both engines.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import CORPORA, QUERY_MIX, machine, percentile, text_size, time_queries  # noqa: E402
from bench._common import sphinx_cluster as cluster  # noqa: E402


def timed_build(sources, path: Path, engine: str | None) -> float:
    from erqi_search import build_index

    start = time.perf_counter()
    build_index(sources, path, engine=engine)
    return time.perf_counter() - start


def latency(index, repeat: int) -> list[float]:
    """Milliseconds of every timed run of the mix (top 10 with facets)."""
    by_kind = time_queries(lambda q: index.search(q, limit=10, facets=True), repeat)
    return [ms for times in by_kind.values() for ms in times]


def answer(index, query: str):
    res = index.search(query, limit=10, facets=True)
    return [(h.passage_id, h.score) for h in res.hits], res.total, res.total_all_terms, res.facets


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="gov_reports", choices=sorted(CORPORA))
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--mirrors", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if shutil.which("searchd") is None:
        print("searchd is not installed (Debian: apt-get install sphinxsearch)", file=sys.stderr)
        return 1

    from erqi_search import open_index

    source = CORPORA[args.corpus]
    work = Path(tempfile.mkdtemp(prefix="erqi-sphinx-bench-"))
    url = cluster("up", work / "cluster", "--shards", args.shards, "--mirrors", args.mirrors)
    try:
        print(f"{args.corpus} ({text_size([source]) / 1e6:.1f} MB of text) on {args.shards} shards × "
              f"{args.mirrors + 1} copies, {machine()}")
        embedded_s = timed_build([source], work / "embedded", None)
        sphinx_s = timed_build([source], work / "sphinx", url)
        with open_index(work / "embedded") as embedded, open_index(work / "sphinx") as sphinx:
            passages = embedded.passage_count
            print(f"build      embedded {embedded_s:7.1f} s ({passages / embedded_s:,.0f} passages/s)   "
                  f"sphinx {sphinx_s:7.1f} s ({passages / sphinx_s:,.0f} passages/s, every copy written)")
            for label, index in (("embedded", embedded), ("sphinx", sphinx)):
                t = latency(index, args.repeat)
                print(f"{label:<10} p50 {percentile(t, 50):7.1f} ms   p95 {percentile(t, 95):7.1f} ms   "
                      f"p99 {percentile(t, 99):7.1f} ms   ({len(t)} queries, top 10 with facets)")
            same = [q for _, q in QUERY_MIX if answer(embedded, q) == answer(sphinx, q)]
            print(f"same top 10, scores, totals and facets: {len(same)} of {len(QUERY_MIX)} queries")
            for _, q in QUERY_MIX:
                if q not in same:
                    print(f"  differs: {q}")
    finally:
        cluster("down", work / "cluster")
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
