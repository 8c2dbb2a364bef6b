"""Look-ups outside search: ``show`` and ``figures``, cold and warm.

    python bench/lookups.py --index DIR [--runs 5] [--indicator GDP]

Prints, for the index at DIR:

* the median wall time of whole ``erqi-search show ID`` and ``erqi-search
  figures NAME`` processes (cold: a new process each time), ID being the
  top hit of 安全生产 事故;
* in one process, the first ``Index.figures(NAME)`` (which reads every
  figure and builds the name table) and the median of the next ones (what
  the web page pays per request), and a cold ``Index.passage`` +
  ``Index.document`` (the report found by its record alone).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import erqi_command, machine, median_wall  # noqa: E402
from erqi_search import open_index  # noqa: E402


def timed(call):
    start = time.perf_counter()
    value = call()
    return value, (time.perf_counter() - start) * 1000


def top_hit(index_path: str, query: str = "安全生产 事故") -> str:
    with open_index(index_path) as index:
        return index.search(query, limit=1).hits[0].passage_id


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--runs", type=int, default=5, help="processes timed for each command")
    ap.add_argument("--indicator", default="GDP", help="the name asked of figures")
    args = ap.parse_args()
    passage_id = top_hit(args.index)
    with open_index(args.index) as index:  # a fresh Index: nothing cached
        passage, show_ms = timed(lambda: index.passage(passage_id))
        document, doc_ms = timed(lambda: index.document(passage.doc_id))
        found, first_ms = timed(lambda: index.figures(args.indicator))
        later = [timed(lambda: index.figures(args.indicator))[1] for _ in range(20)]

    exe = erqi_command()
    show_s = median_wall([exe, "show", passage_id, "--index", args.index], args.runs)
    figures_s = median_wall([exe, "figures", args.indicator, "--index", args.index], args.runs)

    print(f"Look-ups on {args.index}, {machine()}")
    print(f"  erqi-search show {passage_id}: median {show_s:.3f} s of {args.runs} processes")
    print(f"  erqi-search figures {args.indicator}: median {figures_s:.3f} s of {args.runs} processes "
          f"({len(found)} figures)")
    print(f"  in one process: passage {show_ms:.1f} ms, its report's {len(document)} passages {doc_ms:.1f} ms; "
          f"figures first {first_ms:.0f} ms, then median {statistics.median(later):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
