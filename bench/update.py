"""Incremental updates on a big index, timed as a user runs them (the CLI).

    python bench/update.py --index /tmp/full [--keep]

Copies the index to a temporary directory (the original is not touched),
then times three ``erqi-search index update`` commands on the copy: adding
a folder with one new report (a seed report), changing that report, and
removing it (which empties the folder, so that update is given
``--allow-empty-source``, as the refusal tells a user to); after each it searches for the report's words and says whether
the report is found, and how many segments the index has.
Goal: adding one file to the full index in <= 20 s, and the file found.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, erqi_command, machine  # noqa: E402

SEED = ROOT / "seeds" / "000_7ff3adef1ce2c60f.txt"
ADDED_LINE = "\n\n樱桃沟景区新增观光小火车线路，全长三点二公里。\n"


def run(*args: str) -> tuple[float, str]:
    """Wall seconds and stdout of one CLI command (an error stops the bench)."""
    start = time.perf_counter()
    done = subprocess.run([erqi_command(), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed, done.stdout


def found(index: Path, query: str, doc_id: str) -> bool:
    _, out = run("search", query, "--index", str(index), "--format", "json", "-n", "10")
    return any(hit["doc_id"] == doc_id for hit in json.loads(out)["hits"])


def segments(index: Path) -> int:
    from erqi_search import index_status

    return index_status(index).segments


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True, help="the index to copy and update (not changed)")
    ap.add_argument("--keep", action="store_true", help="keep the copy and print where it is")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="erqi-update-"))
    index, folder = work / "ix", work / "extra"
    shutil.copytree(args.index, index)
    folder.mkdir()
    report = folder / "extra_report.txt"
    shutil.copyfile(SEED, report)
    doc_id = "extra_report"

    print(f"Updates on a copy of {args.index}, {machine()}")
    steps = [
        ("add a folder with one report", lambda: None, "二七区委十一届七次全会", True),
        ("change that report", lambda: report.write_text(report.read_text(encoding="utf-8") + ADDED_LINE,
                                                         encoding="utf-8"), "观光小火车", True),
        ("remove it", report.unlink, "观光小火车", False),
    ]
    for i, (label, change, query, expected) in enumerate(steps):
        change()
        options = [str(folder)] if i == 0 else ["--allow-empty-source"] if not report.exists() else []
        seconds, _ = run("index", "update", *options, "--index", str(index), "-q")
        hit = found(index, query, doc_id)
        verdict = "as expected" if hit == expected else "NOT as expected"
        print(f"  {label:<32} {seconds:6.1f} s   found by {query!r}: {hit} ({verdict}), "
              f"{segments(index)} segments")
    if args.keep:
        print(f"copy kept in {index}")
    else:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
