"""Build throughput, peak memory and index size, beside raw jieba on the same text.

    python bench/build.py [CORPUS...] [--index DIR] [--jobs N] [--jieba-mb MB]

CORPUS is a name under ../shared/corpus (gov_reports, lawrefbook, xwlb) or a
path; default: all three, indexed together. Prints characters and passages
per second, peak RSS (this process and the largest worker), index size
against the UTF-8 text size, and the throughput of ``jieba.cut_for_search``
on one core over the same text (the first --jieba-mb megabytes of it).
Goals: build >= 0.8 x raw jieba, peak RSS <= 1 GiB, index <= 2.5 x text.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import CORPORA, MemorySampler, dir_size, machine, peak_rss_mb, text_size  # noqa: E402


def jieba_throughput(sources, megabytes: float) -> tuple[float, int]:
    """Characters per second of jieba.cut_for_search on one core, and the sample size."""
    import jieba

    jieba.initialize()
    budget, texts = int(megabytes * 1e6), []
    for source in sources:
        for f in sorted(Path(source).rglob("*.txt")):
            texts.append(f.read_text(encoding="utf-8", errors="replace"))
            budget -= f.stat().st_size
            if budget <= 0:
                break
        if budget <= 0:
            break
    chars = sum(len(t) for t in texts)
    start = time.perf_counter()
    for text in texts:
        for _ in jieba.cut_for_search(text):
            pass
    return chars / (time.perf_counter() - start), chars


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpora", nargs="*", default=list(CORPORA))
    ap.add_argument("--index", help="build here and keep it (default: a temporary directory)")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--jieba-mb", type=float, default=8.0, help="text for the jieba comparison")
    args = ap.parse_args()
    sources = [CORPORA.get(c, Path(c)) for c in args.corpora]

    from erqi_search import build_index

    path = Path(args.index) if args.index else Path(tempfile.mkdtemp(prefix="erqi-build-")) / "ix"
    skipped = []
    start = time.perf_counter()
    with MemorySampler() as memory:
        report = build_index(sources, path, jobs=args.jobs, warn=skipped.append)
    seconds = time.perf_counter() - start
    own_rss, worker_rss = peak_rss_mb()
    index_bytes, text_bytes = dir_size(path), text_size(sources)
    jieba_cps, sample = jieba_throughput(sources, args.jieba_mb)

    print(f"Build of {', '.join(str(c) for c in args.corpora)}, {machine()}")
    rows = [
        ("reports indexed / skipped", f"{report.documents} / {len(skipped)}"),
        ("passages", f"{report.passages:,}"),
        ("text (UTF-8)", f"{text_bytes / 1e6:.1f} MB, {report.characters:,} characters in passages"),
        ("build wall time", f"{seconds:.1f} s"),
        ("build throughput", f"{report.characters / seconds:,.0f} chars/s, {report.passages / seconds:,.0f} passages/s"),
        ("raw jieba.cut_for_search, 1 core", f"{jieba_cps:,.0f} chars/s (on {sample:,} characters)"),
        ("build ÷ raw jieba", f"{report.characters / seconds / jieba_cps:.2f}  (goal >= 0.8)"),
        ("peak memory, whole process tree", f"{memory.peak_pss:.0f} MiB PSS (sampled every 0.25 s; goal <= 1024)"),
        ("peak RSS per process", f"{own_rss:.0f} MiB parent, {worker_rss:.0f} MiB largest worker"),
        ("index size", f"{index_bytes / 1e6:.1f} MB = {index_bytes / text_bytes:.2f} x text  (goal <= 2.5)"),
        ("segments", f"{report.segments}"),
    ]
    for label, value in rows:
        print(f"  {label:<34} {value}")
    for line in skipped[:10]:
        print(f"  skipped: {line}")
    if not args.index:
        shutil.rmtree(path.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
