"""MRR@10 and hits on the dev queries: erqi-search beside the naive baseline.

    python bench/relevance.py [--queries FILE] [--k 10] [--sphinx] [--verbose]

erqi-search is asked through its library API (the same answers the
``search --format json`` command prints); the baseline is jieba's stock
ChineseAnalyzer on Whoosh defaults over blank-line paragraphs
(bench/baselines/naive.py). Both index seeds/, or the corpus a query names
(``"corpus": "gov_reports"``); queries are reported by ``"kind"`` too
(topic, question, alias). ``--sphinx`` adds erqi-search on a local Sphinx cluster.
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

from bench._common import CORPORA, DEV_QUERIES, ROOT, evaluate_module, machine, sphinx_cluster  # noqa: E402
from bench.baselines import naive  # noqa: E402


def ranks_of(queries, run, k, norm) -> list[tuple[int | None, bool]]:
    """Per query: the rank of the first relevant hit (None: not in the top k),
    and whether a hit broke the query's year."""
    out = []
    for q in queries:
        hits = run(q["query"], k, q.get("corpus", "seeds"))
        markers = [norm(m) for m in q["relevant"]]
        rank = next((i + 1 for i, h in enumerate(hits[:k]) if any(m in norm(h["text"]) for m in markers)), None)
        out.append((rank, "year" in q and any(h["year"] != q["year"] for h in hits)))
    return out


def summary(rows) -> tuple[float, int, int]:
    """MRR, queries found, year violations."""
    return (sum(1 / r for r, _ in rows if r) / max(len(rows), 1), sum(1 for r, _ in rows if r),
            sum(1 for _, bad in rows if bad))


def corpus_path(name: str) -> Path:
    return ROOT / "seeds" if name == "seeds" else CORPORA[name]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", default=str(DEV_QUERIES))
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--sphinx", action="store_true",
                    help="also run erqi-search on a local 2-shard, 1-mirror Sphinx cluster per corpus")
    ap.add_argument("--verbose", action="store_true", help="one line per query")
    args = ap.parse_args()
    queries = [json.loads(line) for line in open(args.queries, encoding="utf-8") if line.strip()]

    from erqi_search import build_index, open_index

    work = Path(tempfile.mkdtemp(prefix="erqi-relevance-"))
    corpora = list(dict.fromkeys(q.get("corpus", "seeds") for q in queries))
    systems = ["erqi-search"] + (["erqi-search on Sphinx"] if args.sphinx else [])
    indexes, clusters = {}, []
    try:
        for corpus in corpora:
            build_index([corpus_path(corpus)], work / corpus, jobs=1)
            indexes["erqi-search", corpus] = open_index(work / corpus)
            if args.sphinx:
                clusters.append(work / f"cluster-{corpus}")
                url = sphinx_cluster("up", clusters[-1], "--shards", 2, "--mirrors", 1)
                build_index([corpus_path(corpus)], work / f"{corpus}-sphinx", engine=url)
                indexes["erqi-search on Sphinx", corpus] = open_index(work / f"{corpus}-sphinx")
            naive.build([corpus_path(corpus)], work / f"naive-{corpus}")
        report(args, queries, indexes, systems, work)
    finally:
        for index in indexes.values():
            index.close()
        for where in clusters:
            sphinx_cluster("down", where)
    return 0


def report(args, queries, indexes, systems, work: Path) -> None:
    """Score every system on the queries and print MRR by kind (and per query with --verbose)."""
    from erqi_search.errors import ErqiSearchError

    norm = evaluate_module().norm
    corpora = list(dict.fromkeys(q.get("corpus", "seeds") for q in queries))

    def erqi_runner(name):
        def run(query, k, corpus):
            try:
                return [{"text": h.text, "year": h.year} for h in indexes[name, corpus].search(query, limit=k).hits]
            except ErqiSearchError:
                return []
        return run

    def run_naive(query, k, corpus):
        try:
            return naive.search(work / f"naive-{corpus}", query, k)
        except Exception:  # noqa: BLE001 - the baseline's parser fails on some queries
            return []

    runners = {name: erqi_runner(name) for name in systems} | {"naive baseline": run_naive}
    kinds = list(dict.fromkeys(q.get("kind", "topic") for q in queries))
    print(f"Relevance on {Path(args.queries).name} ({len(queries)} queries; corpora: {', '.join(corpora)}), "
          f"{machine()}")
    print(f"{'system':<28} {'kind':<10} {'MRR@' + str(args.k):>8} {'found':>7} {'year violations':>16}")
    ranks = {name: ranks_of(queries, run, args.k, norm) for name, run in runners.items()}
    for name, rows in ranks.items():
        for kind in kinds + (["all"] if len(kinds) > 1 else []):
            chosen = [row for q, row in zip(queries, rows) if kind in ("all", q.get("kind", "topic"))]
            mrr, found, year_bad = summary(chosen)
            print(f"{name:<28} {kind:<10} {mrr:>8.3f} {found:>4}/{len(chosen):<2} {year_bad:>16}")
    if args.verbose:
        names = list(runners)
        print(f"\n{'id':<5} " + " ".join(f"{n[:12]:>12}" for n in names) + "  query")
        for i, q in enumerate(queries):
            print(f"{q['id']:<5} " + " ".join(f"{ranks[n][i][0] or '-':>12}" for n in names) + f"  {q['query']}")


if __name__ == "__main__":
    sys.exit(main())
