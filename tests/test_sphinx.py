"""The Sphinx engine (issue 18) on a real local cluster: 2 shards, each with a
mirror, started by scripts/sphinx-cluster. The same analysis, query syntax,
ranking and JSON contract as the embedded engine; faults survived or flagged."""

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from erqi_search import build_index, open_index, update_index
from erqi_search.cli import main

from .conftest import ROOT, SEEDS, SHARED
from .test_engine import QUERIES

SCRIPT = ROOT / "scripts" / "sphinx-cluster"
pytestmark = pytest.mark.skipif(shutil.which("searchd") is None, reason="Sphinx's searchd is not installed")


def cluster(*args) -> str:
    proc = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


@pytest.fixture(scope="module")
def sphinx(tmp_path_factory):
    """A 2-shard, 1-mirror cluster with the seeds in it, and an embedded index beside."""
    root = tmp_path_factory.mktemp("sphinx")
    url = cluster("up", root / "cluster", "--shards", 2, "--mirrors", 1)
    src = root / "src"
    shutil.copytree(SEEDS, src)
    try:
        build_index([src], root / "ix", jobs=2, engine=url)
        build_index([src], root / "embedded", jobs=1)
        yield {"url": url, "root": root, "src": src}
    finally:
        cluster("down", root / "cluster")


def pairs(index, query):
    return answer(index.search(query, limit=20, facets=True))


def answer(results):
    return ([(h.passage_id, h.score) for h in results.hits], results.total, results.total_all_terms, results.facets)


def queries():
    dev = [json.loads(line)["query"] for line in (SHARED / "eval" / "dev_queries.jsonl").read_text().splitlines()
           if line.strip()] if (SHARED / "eval").is_dir() else []
    held = [json.loads(line)["query"] for line in (ROOT / "bench" / "heldout_queries.jsonl").read_text().splitlines()
            if line.strip()]
    return QUERIES + dev + held


def test_same_hits_scores_totals_and_facets_as_the_embedded_engine(sphinx):
    with open_index(sphinx["root"] / "ix") as cluster_index, open_index(sphinx["root"] / "embedded") as local:
        assert cluster_index.engine.name == "sphinx"
        for query in queries():
            assert pairs(cluster_index, query) == pairs(local, query), query
        assert cluster_index.passage("001_a8b229ab2cc41fd9#006") == local.passage("001_a8b229ab2cc41fd9#006")
        assert cluster_index.document("003_48a90a0ac8a58bc6") == local.document("003_48a90a0ac8a58bc6")


def test_the_json_contract_is_the_same(sphinx):
    runner = CliRunner()
    a = json.loads(runner.invoke(main, ["search", "大气污染防治 攻坚", "--index", str(sphinx["root"] / "ix"),
                                        "--format", "json", "--facets"]).stdout)
    b = json.loads(runner.invoke(main, ["search", "大气污染防治 攻坚", "--index", str(sphinx["root"] / "embedded"),
                                        "--format", "json", "--facets"]).stdout)
    assert a == b


def test_a_stopped_node_with_a_live_mirror_changes_nothing(sphinx):
    root = sphinx["root"]
    with open_index(root / "embedded") as local:
        expected = {q: pairs(local, q) for q in QUERIES[:8]}
    cluster("stop-node", root / "cluster", "s1r0")
    try:
        with open_index(root / "ix") as index:
            for query, wanted in expected.items():
                results = index.search(query, limit=20, facets=True)
                assert not results.partial and answer(results) == wanted, query
    finally:
        cluster("start-node", root / "cluster", "s1r0")


def test_a_shard_with_no_live_copy_gives_a_flagged_partial_answer(sphinx):
    root = sphinx["root"]
    with open_index(root / "ix") as index:
        full = index.search("发展", limit=5).total
    cluster("stop-node", root / "cluster", "s1r0")
    cluster("stop-node", root / "cluster", "s1r1")
    try:
        result = CliRunner().invoke(main, ["search", "发展", "--index", str(root / "ix"), "--format", "json"])
        data = json.loads(result.stdout)
        assert result.exit_code == 0 and data["partial"] is True and 0 < data["total"] < full
        assert "results are incomplete" in result.stderr
    finally:
        cluster("start-node", root / "cluster", "s1r0")
        cluster("start-node", root / "cluster", "s1r1")


def test_update_and_rebuild_keep_both_engines_equal(sphinx, tmp_path):
    root, src = sphinx["root"], sphinx["src"]
    (src / "005_new.txt").write_text("二七区2021年道路建设\n\n全年新建道路30条,完成望桥路等道路改造,新增停车泊位三千个。\n",
                                     encoding="utf-8")
    (src / "003_48a90a0ac8a58bc6.txt").rename(tmp_path / "003.txt")
    try:
        a = update_index(root / "ix", jobs=1)
        update_index(root / "embedded", jobs=1)
        assert a.added == ["005_new"] and a.removed == ["003_48a90a0ac8a58bc6"]
        with open_index(root / "ix") as cluster_index, open_index(root / "embedded") as local:
            for query in QUERIES + ["望桥路", "停车泊位"]:
                assert pairs(cluster_index, query) == pairs(local, query), query
        manifest = json.loads((root / "ix" / "manifest.json").read_text())
        slot = manifest["sphinx"]["slot"]
        CliRunner().invoke(main, ["index", "rebuild", "--index", str(root / "ix"), "-q"])
        rebuilt = json.loads((root / "ix" / "manifest.json").read_text())
        assert rebuilt["sphinx"]["slot"] != slot  # filled the other set of indexes, then switched
        with open_index(root / "ix") as cluster_index, open_index(root / "embedded") as local:
            assert pairs(cluster_index, "望桥路") == pairs(local, "望桥路")
    finally:
        (tmp_path / "003.txt").rename(src / "003_48a90a0ac8a58bc6.txt")
        (src / "005_new.txt").unlink()


def test_cluster_script_lists_and_stops_nodes(sphinx):
    nodes = subprocess.run([sys.executable, str(SCRIPT), "nodes", sphinx["root"] / "cluster"], capture_output=True,
                           text=True).stdout.split()
    assert nodes == ["s0r0", "s0r1", "s1r0", "s1r1"]


def test_a_second_index_on_the_same_cluster_is_refused(sphinx, tmp_path):
    result = CliRunner().invoke(main, ["--engine", sphinx["url"], "index", "build", str(sphinx["src"]),
                                       "--index", str(tmp_path / "other"), "-q"])
    assert result.exit_code == 1 and "holds the index at" in result.stderr and "Traceback" not in result.output
    with open_index(sphinx["root"] / "ix") as index:
        assert index.search("大气污染防治").total > 0
