"""Where a warm query spends its time: a cProfile of repeated searches.

    python bench/profile_query.py --index DIR [--repeat 5] [--top 15] QUERY...

Opens the index, runs each query once to warm it, then profiles ``repeat``
runs of each and prints the mean wall time and the functions with the most
time of their own. This is how the causes in docs/performance.md were found.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("queries", nargs="+")
    ap.add_argument("--index", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()

    from erqi_search import open_index

    print(f"Query profile on {args.index}, {machine()}")
    with open_index(args.index) as index:
        for query in args.queries:
            total = index.search(query).total
            profile = cProfile.Profile()
            start = time.perf_counter()
            profile.enable()
            for _ in range(args.repeat):
                index.search(query)
            profile.disable()
            mean_ms = (time.perf_counter() - start) / args.repeat * 1000
            print(f"\n{query!r}: {total:,} matches, {mean_ms:.1f} ms a search (profiled)")
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out).sort_stats("tottime")
            stats.print_stats(args.top)
            lines = out.getvalue().splitlines()
            start_at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
            print("\n".join(line.replace(str(Path(sys.prefix)), "…") for line in lines[start_at:] if line.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
