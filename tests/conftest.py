"""Shared fixtures: the seed index (built once into ./index, as the quick
start does) and a small corpus written into tmp_path with a .txt, a .md with
headings, an .html page, a GB18030 file, an empty file and a binary file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# The property tests draw the same examples on every run, so CI cannot fail at
# random on a new example; HYPOTHESIS_PROFILE=explore draws new ones (run it
# in a loop to hunt for bugs, and pin what it finds as a plain test).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

HTML_PAGE = """<!DOCTYPE html><html><head><title>二七区生态建设简报</title>
<style>.x{color:red}</style><script>var secret = "脚本内容不应被索引";</script></head>
<body><nav>首页 | 新闻</nav>
<h1>二七区生态建设简报</h1>
<h2>大气污染防治</h2>
<p>今年以来,全区空气质量持续改善,<b>优良天数</b>达到234天。</p>
<div>扬尘治理成效明显,建筑工地全部落实“三员”管理制度。<span>未闭合的标签
<h2>河道治理</h2>
<ul><li>贾鲁河综合治理工程顺利推进,完成投资10.8亿元。</li><li>樱桃沟美丽乡村主体工程基本完成。</li></ul>
<footer>版权所有 页脚内容</footer></body></html>
"""

TXT_REPORT = """二七区2019年工作回顾

【读数据 看成绩】

关键词:安置房建设

全年累计开工12个安置房项目200万平方米,回迁群众2.6万人,安置房建设更加高效。

关键词:城市管理

以“路长制”为载体,新建停车场27处、公共停车泊位1.2万个,城市管理更加精细。
"""

MD_REPORT = """# 二七区2021年民生工作

## 教育

新投用中小学、幼儿园12所,增加优质学位1.01万个,课后延时服务实现全覆盖。

## 医疗

实行分级诊疗,完善从社区到医院的医疗服务体系,群众看病更加方便。
"""

GB_REPORT = """二七区2016年经济运行

地区生产总值完成600亿元,同比增长8.5%;一般公共预算收入完成40亿元。

社会消费品零售总额增长10%,固定资产投资保持平稳增长。
"""


@pytest.fixture(scope="session", autouse=True)
def seed_index_path() -> Path:
    """The seed index at ./index, built once (doctests use it too). With
    pytest-xdist every worker runs this: the first to take the index's lock
    builds it, the others wait until it opens."""
    import time

    from erqi_search.errors import ErqiSearchError, IndexLocked
    from erqi_search.indexer import build_index
    from erqi_search.search import open_index

    os.chdir(ROOT)
    path = ROOT / "index"
    deadline = time.monotonic() + 300
    while True:
        try:
            open_index(path).close()
            return path
        except ErqiSearchError:
            try:
                build_index([SEEDS], path, jobs=2)
                return path
            except IndexLocked:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def _opened(path: Path):
    from erqi_search.search import open_index

    with open_index(path) as index:
        yield index


@pytest.fixture(scope="session")
def seed_index(seed_index_path):
    yield from _opened(seed_index_path)


def write_corpus(root: Path) -> Path:
    """Write the small mixed corpus into ``root`` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "report.txt").write_text(TXT_REPORT, encoding="utf-8")
    (root / "minsheng.md").write_text(MD_REPORT, encoding="utf-8")
    (root / "brief.html").write_text(HTML_PAGE, encoding="utf-8")
    (root / "gb.txt").write_bytes(GB_REPORT.encode("gb18030"))
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (root / "notes.pdf").write_bytes(b"%PDF-1.4 not a report")
    return root


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture(scope="session")
def small_index_path(tmp_path_factory) -> Path:
    from erqi_search.indexer import build_index

    root = write_corpus(tmp_path_factory.mktemp("small") / "corpus")
    path = root.parent / "index"
    build_index([root], path, jobs=1)
    return path


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory) -> Path:
    """Seeds copied to ``src`` and indexed into ``ix`` once per test run."""
    from erqi_search.indexer import build_index

    root = tmp_path_factory.mktemp("seedbuild")
    shutil.copytree(SEEDS, root / "src")
    build_index([root / "src"], root / "ix", jobs=1)
    return root


@pytest.fixture(scope="session")
def fresh_seed_index(seed_build):
    """The seed index built by this run's code (./index may be older), open; read it only."""
    yield from _opened(seed_build / "ix")


def relocate(ix: Path, old: Path, new: Path) -> None:
    """Point a copied index at a copied source folder (manifest and file list)."""
    from erqi_search import store

    manifest = json.loads((ix / store.MANIFEST).read_text(encoding="utf-8"))
    old_s, new_s = os.path.realpath(old), os.path.realpath(new)
    manifest["sources"] = [new_s if s == old_s else s for s in manifest["sources"]]
    gen = ix / manifest["generation"]
    files = json.loads((gen / store.SOURCES_FILE).read_text(encoding="utf-8"))
    files = {p.replace(old_s, new_s, 1): f for p, f in files.items()}
    for p, f in files.items():  # a copy has a new mtime; the sha256 says it did not change
        f["mtime_ns"] = os.stat(p).st_mtime_ns
    store.write_json(gen / store.SOURCES_FILE, files)
    manifest["generation_files"] = store.generation_files(gen)
    store.write_json(ix / store.MANIFEST, manifest)


@pytest.fixture
def seeded(seed_build, tmp_path) -> tuple[Path, Path]:
    """A fresh copy of the seeds (``src``) and of their index (``ix``), to change or damage."""
    src, ix = tmp_path / "src", tmp_path / "ix"
    shutil.copytree(seed_build / "src", src)
    shutil.copytree(seed_build / "ix", ix)
    relocate(ix, seed_build / "src", src)
    return src, ix
