"""Trust (issue 15): no silent index wipe, no file that stops a build, errors a
person can act on. Each test failed on version 0.1."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from erqi_search.cli import main
from erqi_search.errors import (
    ErqiSearchError,
    IndexClosed,
    InvalidArgument,
    QuerySyntaxError,
    SourceNotFound,
    UnsafeUpdate,
)
from erqi_search.indexer import build_index, index_status, rebuild_index, update_index
from erqi_search.search import open_index

from .conftest import ROOT, SEEDS


def generation(path: Path) -> str:
    return json.loads((path / "manifest.json").read_text(encoding="utf-8"))["generation"]


# ------------------------------------------------------- sources that vanish

def test_mistyped_source_is_an_error_and_the_index_stays(seeded, tmp_path):
    src, ix = seeded
    before = generation(ix)
    with pytest.raises(SourceNotFound, match="does not exist.*nothing was changed"):
        build_index([tmp_path / "sr"], ix, jobs=1)
    assert generation(ix) == before and index_status(ix).documents == 5
    result = CliRunner().invoke(main, ["index", "build", str(tmp_path / "sr"), "--index", str(ix)])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "does not exist" in result.output
    with pytest.raises(SourceNotFound):
        build_index([tmp_path / "sr"], tmp_path / "never", jobs=1)
    assert not (tmp_path / "never").exists()  # not even an empty index directory


def test_moved_source_is_refused_then_rebuilt_from_its_new_place(seeded, tmp_path):
    src, ix = seeded
    before = generation(ix)
    moved = tmp_path / "moved"
    src.rename(moved)
    with pytest.raises(SourceNotFound, match="does not exist"):
        update_index(ix, jobs=1)
    assert generation(ix) == before
    assert index_status(ix).missing_sources == [str(src)]
    report = rebuild_index(ix, [moved], jobs=1)
    assert report.documents == 5
    assert index_status(ix).sources == [str(moved)] and index_status(ix).missing_sources == []


def test_update_that_would_empty_a_source_needs_a_flag(seeded):
    src, ix = seeded
    before = generation(ix)
    for f in src.iterdir():
        f.unlink()
    with pytest.raises(UnsafeUpdate, match="remove all 5 reports.*--allow-empty-source"):
        update_index(ix, jobs=1)
    assert generation(ix) == before
    result = CliRunner().invoke(main, ["index", "update", "--index", str(ix)])
    assert result.exit_code == 1 and "--allow-empty-source" in result.output
    report = update_index(ix, jobs=1, allow_empty_source=True)
    assert len(report.removed) == 5 and index_status(ix).documents == 0


def test_build_with_no_readable_report_publishes_nothing(seeded, tmp_path):
    src, ix = seeded
    before = generation(ix)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(SourceNotFound, match="holds no readable report"):
        build_index([bad], ix, jobs=1)
    (bad / "empty.txt").unlink()
    with pytest.raises(SourceNotFound, match="holds no .txt, .md or .html reports"):
        build_index([bad], ix, jobs=1)
    assert generation(ix) == before and sorted(p.name for p in ix.glob("gen-*")) == [before]


# ---------------------------------------------------- files that cannot be read

def test_undecodable_fifo_and_empty_files_never_stop_a_build(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SEEDS, src)
    # a UTF-16 byte-order mark, then a lone surrogate: a traceback in 0.1
    (src / "surrogate.txt").write_bytes(b"\xff\xfe" + b"\x00\xd8" + "二七区".encode("utf-16-le"))
    (src / "lone.txt").write_bytes(b"\xff\xfe" + "二七区推进锦绣大道建设,成效明显。".encode("utf-16-le") + b"\x00\xd8")
    os.mkfifo(src / "pipe.txt")  # reading it would block for ever
    (src / "loop.txt").symlink_to(src / "loop.txt")
    warnings = []
    report = build_index([src], tmp_path / "ix", jobs=2, warn=warnings.append)
    skipped = sorted(Path(p).name for p in report.skipped)
    assert skipped == ["loop.txt", "pipe.txt", "surrogate.txt"]
    assert len(warnings) == len(report.skipped) and report.documents == 6
    assert any("not a regular file" in w for w in warnings)
    with open_index(tmp_path / "ix") as index:
        assert index.search('"锦绣大道"').total == 1  # the lone surrogate became U+FFFD


def test_a_skipped_file_is_not_reported_as_added(seeded):
    src, ix = seeded
    (src / "empty.txt").write_bytes(b"")
    (src / "new.txt").write_text("新的报告\n\n二七区新建口袋公园十二个,群众满意。\n", encoding="utf-8")
    warnings = []
    report = update_index(ix, jobs=1, warn=warnings.append)
    assert report.added == ["new"] and [Path(p).name for p in report.skipped] == ["empty.txt"]
    assert len(warnings) == 1


# ------------------------------------------------------------- small things

def test_closed_pipe_is_quiet():
    cmd = f"{sys.executable} -m erqi_search inspect seeds seeds seeds seeds | head -1"
    proc = subprocess.run(["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("== ") and proc.stderr == ""


def test_empty_query_and_bad_year(seed_index):
    with pytest.raises(QuerySyntaxError, match=r"查询为空 \(empty query\)"):
        seed_index.search("   ")
    with pytest.raises(InvalidArgument, match="year must be a whole number"):
        seed_index.search("发展", year="abc")
    with pytest.raises(InvalidArgument, match="four digits"):
        seed_index.search("发展", year=0)
    for args in (["search", "发展", "--year", "0"], ["search", "发展", "--limit", "x"], ["search"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
        assert result.output.startswith("Error: ") and "--help" in result.output


def test_library_calls_after_close_raise_a_typed_error(seed_index_path):
    index = open_index(seed_index_path)
    index.close()
    for call in (lambda: index.search("发展"), lambda: index.figures("GDP"), lambda: index.passage_count,
                 lambda: index.trend("发展"), lambda: index.document("x")):
        with pytest.raises(IndexClosed, match="open it again"):
            call()


def test_figures_survive_two_later_writes(seeded):
    src, ix = seeded
    with open_index(ix) as index:
        before = index.figures("GDP")
        for n in range(2):
            (src / f"extra{n}.txt").write_text(f"报告{n}\n\n二七区新建口袋公园{n + 3}个,群众满意。\n", encoding="utf-8")
            update_index(ix, jobs=1)
        assert index.figures("GDP") == before and before
    assert isinstance(IndexClosed("x"), ErqiSearchError)
