"""Cold start: medians of whole-process wall times, side by side in one run.

    python bench/cold_start.py [--runs 7] [--index DIR] [--full-index DIR]

Prints the medians of ``python -c pass``, ``python -c "import jieba;
jieba.initialize()"`` and ``erqi-search search 大气污染防治`` on the seed
index (built into a temporary directory unless --index is given) and, with
--full-index, on a full-corpus index; and each search's ratio to jieba's
initialisation (goal: at most 0.25).

The package's bytecode is compiled first, as an installed package has it:
with PYTHONDONTWRITEBYTECODE set (as on the development machine) an edited
module would otherwise be compiled again by every run (0.1 s of a search).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, erqi_command, machine, median_wall  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--index", help="seed index to search (default: build one)")
    ap.add_argument("--full-index", help="a full-corpus index to search as well")
    args = ap.parse_args()

    seed_index = args.index
    if seed_index is None:
        from erqi_search import build_index

        seed_index = str(Path(tempfile.mkdtemp(prefix="erqi-cold-")) / "ix")
        build_index([ROOT / "seeds"], seed_index, jobs=1)

    import compileall

    compileall.compile_dir(str(ROOT / "erqi_search"), quiet=1)
    py = sys.executable
    rows = [
        ("python -c pass", median_wall([py, "-c", "pass"], args.runs)),
        ("jieba.initialize()", median_wall([py, "-c", "import jieba; jieba.initialize()"], args.runs)),
    ]
    searches = [("erqi-search search (seed index)", seed_index)]
    if args.full_index:
        searches.append(("erqi-search search (full index)", args.full_index))
    for label, index in searches:
        cmd = [erqi_command(), "search", "大气污染防治", "--index", index, "--format", "json"]
        rows.append((label, median_wall(cmd, args.runs)))

    jieba_init = rows[1][1]
    print(f"Cold start, median of {args.runs} runs, {machine()}")
    print(f"{'command':<34} {'median s':>9} {'÷ jieba init':>13}")
    for label, seconds in rows:
        print(f"{label:<34} {seconds:>9.3f} {seconds / jieba_init:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
