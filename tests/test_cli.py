"""The command line (issue 7): exact output, exit codes, one-line errors."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from erqi_search import __version__
from erqi_search.cli import main
from erqi_search.analysis import ANALYZER_VERSION
from erqi_search.store import IndexLock
from erqi_search.present import render_text
from erqi_search.search import open_index

from .conftest import SEEDS


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def one_line_error(result, code):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout == f"erqi-search, version {__version__}\n"


def test_search_text_exact(small_index_path):
    result = run("search", "优良天数", "--index", small_index_path, "--no-color")
    assert result.exit_code == 0
    assert result.stdout == (
        "1. 二七区生态建设简报 (----)  [brief#002]\n"
        "   二七区生态建设简报 › 大气污染防治\n"
        "   二七区生态建设简报 大气污染防治 今年以来,全区空气质量持续改善,[优良天数]达到234天。\n"
    )
    assert re.fullmatch(r"1 result, page 1, 1 shown \(\d+\.\d{3}s\)\n", result.stderr)


def test_search_json_exact(small_index_path):
    result = run("search", "停车泊位", "--index", small_index_path, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    score = data["hits"][0].pop("score")
    assert isinstance(score, float) and score > 0
    assert data == {
        "query": "停车泊位",
        "total": 1,
        "total_all_terms": 1,
        "page": 1,
        "limit": 10,
        "hits": [
            {
                "doc_id": "report",
                "passage_id": "report#002",
                "title": "二七区2019年工作回顾",
                "year": 2019,
                "date": "",
                "section": "城市管理",
                "section_path": ["【读数据 看成绩】", "城市管理"],
                "keywords": ["城市管理"],
                "text": "关键词:城市管理\n以“路长制”为载体,新建停车场27处、公共停车泊位1.2万个,城市管理更加精细。",
                "snippet": "关键词:城市管理 以“路长制”为载体,新建停车场27处、公共停车泊位1.2万个,城市管理更加精细。",
                "highlights": [[30, 34]],
            }
        ],
    }
    assert "\\u" not in result.stdout  # Chinese unescaped


def test_search_json_facets_and_paging(seed_index_path):
    result = run("search", "建设", "--index", seed_index_path, "--format", "json", "--facets", "--limit", "3",
                 "--page", "2", "--year", "2017")
    data = json.loads(result.stdout)
    assert data["page"] == 2 and len(data["hits"]) == 3
    assert sum(data["facets"]["year"].values()) == data["total"] == data["facets"]["year"]["2017"]


def test_search_html_is_one_self_contained_page(small_index_path):
    result = run("search", "优良天数", "--index", small_index_path, "--format", "html", "--facets")
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<mark>优良天数</mark>" in page
    assert "<script" not in page and "http" not in page


def test_no_results_exit_zero(small_index_path):
    result = run("search", "量子计算", "--index", small_index_path)
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.startswith("no results, page 1, 0 shown")


def test_colour_only_when_asked():
    with open_index(Path(__file__).resolve().parent.parent / "index") as index:
        results = index.search("优良天数", limit=1)
    assert "\x1b[1;31m" in render_text(results, color=True)
    assert "\x1b" not in render_text(results, color=False)


def test_show_passage_with_neighbours_exact(small_index_path):
    result = run("show", "report#002", "--index", small_index_path)
    assert result.exit_code == 0
    assert result.stdout == (
        "二七区2019年工作回顾 (2019)  [report]\n"
        "\n"
        "   [report#001] 【读数据 看成绩】 › 安置房建设\n"
        "   二七区2019年工作回顾\n"
        "   【读数据 看成绩】\n"
        "   关键词:安置房建设\n"
        "   全年累计开工12个安置房项目200万平方米,回迁群众2.6万人,安置房建设更加高效。\n"
        "\n"
        ">> [report#002] 【读数据 看成绩】 › 城市管理\n"
        "   关键词:城市管理\n"
        "   以“路长制”为载体,新建停车场27处、公共停车泊位1.2万个,城市管理更加精细。\n"
    )


def test_show_whole_report_json(small_index_path):
    result = run("show", "minsheng", "--index", small_index_path, "--format", "json")
    data = json.loads(result.stdout)
    assert [p["passage_id"] for p in data] == ["minsheng#001", "minsheng#002"]
    assert data[1]["section_path"] == ["二七区2021年民生工作", "医疗"]


def test_show_unknown_id(small_index_path):
    one_line_error(run("show", "nope#001", "--index", small_index_path), 1)


def test_index_status_exact(small_index_path):
    result = run("index", "status", "--index", small_index_path)
    assert result.exit_code == 0
    out = re.sub(r"\d{4}-\d\d-\d\dT\S+ in \d+\.\ds", "DATE in Ns", result.stdout)
    out = re.sub(r"size:       \d+\.\d MB", "size:       N MB", out)
    out = re.sub(r"versions:   .*", "versions:   V", out)
    out = out.replace(str(small_index_path), "IX").replace(str(small_index_path.parent / "corpus"), "SRC")
    assert out == (
        "index:      IX (gen-000001, 1 segments)\n"
        "engine:     embedded\n"
        "reports:    4\n"
        "passages:   10\n"
        "size:       N MB\n"
        "built:      DATE in Ns\n"
        "versions:   V\n"
        "sources:    SRC\n"
        "sources:    up to date\n"
    )
    status = json.loads(run("index", "status", "--index", small_index_path, "--format", "json").stdout)
    assert status["documents"] == 4 and status["versions"]["analyzer"] == ANALYZER_VERSION


def test_inspect_exact(corpus):
    result = run("inspect", corpus / "minsheng.md")
    assert result.exit_code == 0
    assert result.stdout == (
        "== minsheng  二七区2021年民生工作  (2021)\n"
        "[minsheng#001] 二七区2021年民生工作 › 教育 | terms: 课后、延时、中小学、幼儿园、学位\n"
        "   二七区2021年民生工作\n"
        "   教育\n"
        "   新投用中小学、幼儿园12所,增加优质学位1.01万个,课后延时服务实现全覆盖。\n"
        "[minsheng#002] 二七区2021年民生工作 › 医疗 | terms: 医疗、诊疗、服务体系、分级、看病\n"
        "   医疗\n"
        "   实行分级诊疗,完善从社区到医院的医疗服务体系,群众看病更加方便。\n"
    )
    assert result.stderr == "1 reports, 2 passages\n"


def test_inspect_directory_warns_and_goes_on(corpus):
    result = run("inspect", corpus, "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 4
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3 and any("binary.txt" in w for w in warnings) and any("notes.pdf" in w for w in warnings)


def test_keywords_exact(small_index_path):
    result = run("keywords", "--index", small_index_path, "--limit", "3")
    assert result.exit_code == 0
    assert result.stdout == (
        "passages  term        kind\n"
        "       1  城市管理    关键词\n"
        "       1  安置房建设  关键词\n"
        "       2  增长        extracted\n"
    )
    year = json.loads(run("keywords", "--index", small_index_path, "--year", "2019", "--format", "json").stdout)
    assert {row["term"] for row in year} >= {"城市管理", "安置房建设"}


def test_index_build_update_rebuild_commands(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SEEDS, src)
    ix = tmp_path / "ix"
    built = run("index", "build", src, "--index", ix, "--jobs", "1")
    assert built.exit_code == 0 and built.stdout == ""
    assert re.fullmatch(r"built \S+: 5 reports, \d+ passages \(\d+\.\ds\)\n", built.stderr)
    (src / "001_a8b229ab2cc41fd9.txt").unlink()
    updated = run("index", "update", "--index", ix, "--quiet")
    assert updated.exit_code == 0 and updated.stdout == "removed: 001_a8b229ab2cc41fd9\n" and updated.stderr == ""
    rebuilt = run("index", "rebuild", "--index", ix, "-q")
    assert rebuilt.exit_code == 0 and json.loads((ix / "manifest.json").read_text())["documents"] == 4


@pytest.mark.parametrize(
    "query, fragment", [('"社会消费品', "unclosed quote"), ("foo:bar", "unknown field"), ("year:abc", "year")]
)
def test_bad_query_exits_2_with_one_line(seed_index_path, query, fragment):
    result = run("search", query, "--index", seed_index_path)
    one_line_error(result, 2)
    assert fragment in result.stderr and "查询语法错误" in result.stderr


def test_missing_index_exits_1(tmp_path):
    result = run("search", "二七", "--index", tmp_path / "nowhere")
    one_line_error(result, 1)
    assert f"erqi-search index build --index {tmp_path / 'nowhere'}" in result.stderr
    result = run("search", "二七", env={"ERQI_SEARCH_INDEX": str(tmp_path / "env")})
    one_line_error(result, 1)
    assert "no index at" in result.stderr


def test_version_mismatch_exits_1(tmp_path):
    ix = tmp_path / "ix"
    run("index", "build", SEEDS, "--index", ix, "-q", "-j", "1")
    manifest = json.loads((ix / "manifest.json").read_text())
    manifest["dictionary_hash"] = "0000"
    (ix / "manifest.json").write_text(json.dumps(manifest))
    result = run("search", "二七", "--index", ix)
    one_line_error(result, 1)
    assert f"rebuild with: erqi-search index rebuild --index {ix}" in result.stderr


def test_held_lock_exits_1(tmp_path):
    ix = tmp_path / "ix"
    ix.mkdir()
    with IndexLock(ix):
        result = run("index", "build", SEEDS, "--index", ix)
    one_line_error(result, 1)
    assert f"another build is running on {ix} (pid {os.getpid()})" in result.stderr


def test_half_written_index_exits_1(tmp_path):
    ix = tmp_path / "ix"
    run("index", "build", SEEDS, "--index", ix, "-q", "-j", "1")
    for seg in (ix / "gen-000001").glob("*.pst"):  # the postings
        seg.write_bytes(seg.read_bytes()[:100])
    result = run("search", "二七", "--index", ix)
    one_line_error(result, 1)
    assert "damaged" in result.stderr


def test_usage_errors_exit_2(small_index_path):
    assert run("search").exit_code == 2
    assert run("search", "x", "--limit", "0", "--index", small_index_path).exit_code == 2
    assert run("search", "x", "--format", "pdf").exit_code == 2


def test_default_index_builds_itself_from_seeds(tmp_path, monkeypatch):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ERQI_SEARCH_INDEX", raising=False)
    result = run("search", "大气污染防治", "--limit", "1")
    assert result.exit_code == 0
    assert "building index/ from seeds/" in result.stderr
    assert "大气污染防治" in result.stdout
    assert (tmp_path / "index" / "manifest.json").is_file()
    again = run("search", "大气污染防治", "--limit", "1")
    assert "building" not in again.stderr
