"""Index lifecycle (issue 5): build, update, rebuild, manifest, locking, processes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from erqi_search.analysis import ANALYZER_VERSION
from erqi_search.errors import IndexCorrupt, IndexLocked, IndexNotFound, IndexVersionMismatch
from erqi_search.indexer import build_index, index_status, rebuild_index, update_index
from erqi_search.store import IndexLock
from erqi_search.search import open_index

from .conftest import ROOT, SEEDS

QUERIES = ["大气污染防治", "安置房 回迁", "GDP", '"临时党支部"', "建设 year:2017", "温暖二七", "道路"]


def answers(path, queries=QUERIES):
    with open_index(path) as index:
        return {q: [h.passage_id for h in index.search(q, limit=20).hits] for q in queries}


def copy_seeds(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for f in SEEDS.iterdir():
        shutil.copy(f, dest / f.name)
    return dest


def test_build_writes_manifest_and_status(tmp_path):
    path = tmp_path / "ix"
    seen = []
    report = build_index([SEEDS], path, jobs=1, progress=seen.append)
    with open_index(path) as index:
        stored = sum(1 for _ in index.all_passages())
    assert report.documents == 5 and report.passages == stored > 100
    assert seen[-1].files_done == seen[-1].files_total == 5 and seen[-1].passages == stored
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    for key in ("format_version", "analyzer_version", "dictionary_hash", "versions", "built_at", "engine"):
        assert key in manifest
    assert "files" not in manifest  # the file list is beside it: a search does not parse it
    sources = json.loads((path / manifest["generation"] / "sources.json").read_text(encoding="utf-8"))
    assert len(sources) == 5 and "\\u" not in (path / "manifest.json").read_text(encoding="utf-8")
    status = index_status(path)
    assert status.documents == 5 and status.passages == report.passages and status.stale == []
    assert status.size_bytes > 0 and "whoosh" in status.versions and "jieba" in status.versions


def test_update_equals_fresh_build(seeded, tmp_path):
    src, path = seeded
    # change one file, remove one, add one
    changed = src / "002_3f13d9cc05edbc24.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\n新增段落:二七区推进智慧城管平台建设,成效显著。\n",
                       encoding="utf-8")
    (src / "003_48a90a0ac8a58bc6.txt").unlink()
    (src / "005_new.txt").write_text("二七区2021年道路建设\n\n全年新建道路30条,完成望桥路等道路改造。\n", encoding="utf-8")
    report = update_index(path, jobs=1)
    assert report.added == ["005_new"]
    assert report.changed == ["002_3f13d9cc05edbc24"]
    assert report.removed == ["003_48a90a0ac8a58bc6"]
    assert report.unchanged == 3
    fresh = tmp_path / "fresh"
    build_index([src], fresh, jobs=1)
    # the same hits in the same order with the same scores (statistics are over
    # live passages, so deleted ones, still in the old segment, change nothing)
    with open_index(path) as updated, open_index(fresh) as built:
        for q in QUERIES + ["智慧城管", "望桥路"]:
            a = [(h.passage_id, h.score) for h in updated.search(q, limit=1000).hits]
            b = [(h.passage_id, h.score) for h in built.search(q, limit=1000).hits]
            assert a == b and a
    assert index_status(path).stale == []
    with open_index(path) as updated, open_index(fresh) as built:  # cold: a report found by its record alone
        for doc_id in ("002_3f13d9cc05edbc24", "005_new", "003_48a90a0ac8a58bc6", "000_7ff3adef1ce2c60f"):
            assert [(p.passage_id, p.text) for p in updated.document(doc_id)] == \
                   [(p.passage_id, p.text) for p in built.document(doc_id)]
            one, other = updated.passage(f"{doc_id}#2"), built.passage(f"{doc_id}#2")
            assert (one and one.text) == (other and other.text)
        assert "智慧城管" in updated.document("002_3f13d9cc05edbc24")[-1].text
    assert update_index(path, jobs=1).added == []  # nothing to do the second time


def test_parallel_and_single_process_builds_are_identical(seed_build, tmp_path):
    two = build_index([seed_build / "src"], tmp_path / "two", jobs=2)
    assert two.segments == 2  # one segment per worker
    with open_index(seed_build / "ix") as a, open_index(tmp_path / "two") as b:
        for q in QUERIES + ["发展", "建设 -项目", "年"]:
            ra, rb = a.search(q, limit=1000, facets=True), b.search(q, limit=1000, facets=True)
            assert [(h.passage_id, h.score) for h in ra.hits] == [(h.passage_id, h.score) for h in rb.hits]
            assert (ra.total, ra.total_all_terms, ra.facets) == (rb.total, rb.total_all_terms, rb.facets)
        assert list(a.all_passages()) == list(b.all_passages())


def test_files_touched_but_unchanged_are_not_hashed_again_next_time(seeded):
    """A file whose stat changed but not its content stays unchanged, and its
    new size and mtime are recorded with the next write, so the update after
    that compares stats instead of hashing every file again."""
    from erqi_search import store

    src, path = seeded
    for f in src.iterdir():
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))  # touched (copied, synced)
    changed = src / "002_3f13d9cc05edbc24.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\n新增段落。\n", encoding="utf-8")
    report = update_index(path, jobs=1)
    assert report.changed == ["002_3f13d9cc05edbc24"] and report.unchanged == 4
    recorded = store.read_sources(path, store.read_manifest(path))
    assert all(recorded[str(f)]["mtime_ns"] == f.stat().st_mtime_ns for f in src.iterdir())


def test_rebuild_uses_recorded_sources_and_swaps_generation(seeded):
    _, path = seeded
    first = json.loads((path / "manifest.json").read_text())["generation"]
    report = rebuild_index(path, jobs=1)
    assert report.generation != first and report.documents == 5
    assert (path / first).is_dir()  # the previous generation stays for searches in flight


def test_missing_index_is_an_error(tmp_path):
    with pytest.raises(IndexNotFound, match="erqi-search index build --index"):
        open_index(tmp_path / "nowhere")


def test_manifest_mismatch_asks_for_rebuild(seeded):
    _, path = seeded
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["analyzer_version"] = "0"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexVersionMismatch, match="erqi-search index rebuild --index"):
        open_index(path)
    manifest["analyzer_version"], manifest["format_version"] = ANALYZER_VERSION, 3
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexVersionMismatch, match="format version 3.*erqi-search index rebuild --index"):
        open_index(path)  # an index of the previous format asks for a rebuild
    manifest["format_version"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexVersionMismatch, match="newer"):
        open_index(path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="damaged"):
        open_index(path)


def test_held_lock_and_stale_lock(tmp_path):
    path = tmp_path / "ix"
    path.mkdir()
    with IndexLock(path):
        with pytest.raises(IndexLocked, match=f"pid {os.getpid()}"):
            build_index([SEEDS], path, jobs=1)
        started = time.monotonic()
        with pytest.raises(IndexLocked):
            build_index([SEEDS], path, jobs=1, lock_wait=0.5)
        assert 0.4 < time.monotonic() - started < 5
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (path / ".lock").write_text(f"{dead.stdout.strip()} host\n")
    assert build_index([SEEDS], path, jobs=1).documents == 5  # a dead owner's lock is cleared


CONTEND = """
import os, sys, time
from pathlib import Path
from erqi_search.store import IndexLock
path, start = Path(sys.argv[1]), float(sys.argv[2])
while time.time() < start:
    pass
for _ in range(20):
    with IndexLock(path, wait=60):
        inside = os.open(path / "inside", os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # fails if another holder is in
        time.sleep(0.002)
        os.close(inside)
        os.unlink(path / "inside")
"""


def test_writers_racing_for_the_lock_never_hold_it_together(tmp_path):
    """Six processes take and release the lock twenty times each, starting at
    the same instant: at most one is ever inside (a lock file seen before its
    owner wrote the pid was once cleared as stale, letting two builds in)."""
    start = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, "-c", CONTEND, str(tmp_path), str(start)], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), [e[-300:] for e in errors if e]
    assert not (tmp_path / ".lock").exists()


def _big_corpus(tmp_path: Path, copies: int) -> Path:
    src = tmp_path / "big"
    src.mkdir()
    for i in range(copies):
        for f in SEEDS.iterdir():
            shutil.copy(f, src / f"{i:03d}_{f.name}")
    return src


BUILD = "import sys; from erqi_search.indexer import build_index; build_index([sys.argv[1]], sys.argv[2], jobs=2)"


def _seed_index_then_big_build(tmp_path, copies):
    """A seed index, its answers, and a running build of many seed copies into it."""
    path = tmp_path / "ix"
    build_index([SEEDS], path, jobs=1)
    before = answers(path)
    big = _big_corpus(tmp_path, copies)
    return path, before, subprocess.Popen([sys.executable, "-c", BUILD, str(big), str(path)], cwd=ROOT)


@pytest.mark.slow
def test_sigkill_during_rebuild_keeps_the_old_index(tmp_path):
    path, before, proc = _seed_index_then_big_build(tmp_path, copies=40)
    deadline = time.monotonic() + 60
    while not any(p.name != "gen-000001" for p in path.glob("gen-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert answers(path) == before  # the published index is untouched
    report = build_index([SEEDS], path, jobs=1, lock_wait=60)  # the next build recovers by itself (once
    # the killed writer's workers, which hold its lock, have been killed with it)
    assert report.documents == 5 and not (path / ".lock").exists()
    assert sorted(p.name for p in path.glob("gen-*")) == ["gen-000001", report.generation]


def _proc_stat(pid) -> list[str]:
    """State, parent pid ... of a process from /proc (``[]`` once it is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def _living_children(pid: int) -> list[int]:
    """The live (not zombie) child processes of ``pid``."""
    return [int(p.name) for p in Path("/proc").glob("[0-9]*")
            if (fields := _proc_stat(p.name)) and fields[1] == str(pid) and fields[0] != "Z"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_writer_takes_its_workers_and_its_lock_with_it(tmp_path):
    """A build's workers are forked holding the index lock; if they outlived a
    killed writer they would block for ever on their queues and no write
    could start again. The kernel kills them with the writer."""
    path, _, proc = _seed_index_then_big_build(tmp_path, copies=30)
    deadline = time.monotonic() + 60
    while len(workers := _living_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(workers) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while (alive := [w for w in workers if _proc_stat(w)[:1] not in ([], ["Z"])]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, alive
    with IndexLock(path, wait=5):  # free: nobody of the killed build holds it
        pass


@pytest.mark.slow
def test_search_from_another_process_during_rebuild(tmp_path):
    # the rebuild indexes copies of the seeds: every seed passage is still found
    path, expected, proc = _seed_index_then_big_build(tmp_path, copies=20)
    checks = 0
    while proc.poll() is None:
        got = answers(path)
        generation = json.loads((path / "manifest.json").read_text())["generation"]
        if generation == "gen-000001":
            assert got == expected
        else:
            assert all(got[q] for q in QUERIES)
        checks += 1
    assert proc.returncode == 0 and checks > 0
    assert all(answers(path)[q] for q in QUERIES)
