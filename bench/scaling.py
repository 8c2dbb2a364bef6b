"""How build time, index size and query latency grow with the corpus.

    python bench/scaling.py [CORPUS...] [--fractions 8,4,2,1] [--repeat 3]

Builds indexes of 1/8, 1/4, 1/2 and all of the files (every k-th file of the
sorted list, so each slice keeps the mix of corpora) and prints, per slice,
the text size, build time, index size and the p50 latency of the query mix
of bench/_common.py, with each figure's ratio to the previous slice (2.0
means linear growth when the text doubles).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import CORPORA, QUERY_MIX, dir_size, machine, percentile  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpora", nargs="*", default=list(CORPORA))
    ap.add_argument("--fractions", default="8,4,2,1", help="denominators of the slices")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from erqi_search import build_index, open_index

    files = sorted(f for c in args.corpora for f in Path(CORPORA.get(c, c)).rglob("*.txt"))
    work = Path(tempfile.mkdtemp(prefix="erqi-scaling-"))
    print(f"Scaling over {', '.join(args.corpora)} ({len(files):,} files), {machine()}")
    print(f"{'slice':>6} {'files':>7} {'text MB':>8} {'build s':>8} {'index MB':>9} {'p50 ms':>7}   growth (build, size, p50)")
    previous = None
    for denominator in (int(d) for d in args.fractions.split(",")):
        chosen = files[::denominator]
        src = work / f"src-{denominator}"
        src.mkdir()
        for f in chosen:  # links keep each slice's metadata-free copy cheap
            os.symlink(f, src / f"{f.parent.name}__{f.name}")
        text_mb = sum(f.stat().st_size for f in chosen) / 1e6
        start = time.perf_counter()
        build_index([src], work / f"ix-{denominator}")
        build_s = time.perf_counter() - start
        size_mb = dir_size(work / f"ix-{denominator}") / 1e6
        with open_index(work / f"ix-{denominator}") as index:
            for _, q in QUERY_MIX:
                index.search(q)
            times = []
            for _ in range(args.repeat):
                for _, q in QUERY_MIX:
                    t = time.perf_counter()
                    index.search(q)
                    times.append((time.perf_counter() - t) * 1000)
        p50 = percentile(times, 50)
        growth = ""
        if previous:
            growth = "   ×{:.1f} ×{:.1f} ×{:.1f}".format(build_s / previous[0], size_mb / previous[1], p50 / previous[2])
        print(f"{'1/' + str(denominator):>6} {len(chosen):>7,} {text_mb:>8.1f} {build_s:>8.1f} {size_mb:>9.1f} {p50:>7.1f}{growth}")
        previous = (build_s, size_mb, p50)
        shutil.rmtree(work / f"ix-{denominator}", ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
