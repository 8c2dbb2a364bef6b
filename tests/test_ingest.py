from pathlib import Path

import pytest

from erqi_search.errors import UnreadableReport
from erqi_search.ingest import decode_bytes, find_report_files, read_report, read_tail
from erqi_search.passages import cut_passages

from .conftest import SEEDS

SEED_YEARS = [2018, 2017, 2017, 2017, 2020]


def seed_reports():
    return [read_report(p) for p in sorted(SEEDS.iterdir())]


def test_seed_years():
    assert [r.year for r in seed_reports()] == SEED_YEARS


def test_seed_metadata():
    r = read_report(SEEDS / "000_7ff3adef1ce2c60f.txt")
    assert r.doc_id == "000_7ff3adef1ce2c60f"
    assert r.title == "二七区委十一届七次全会暨区委经济工作会议"
    assert len(r.sha256) == 64
    assert read_report(SEEDS / "004_9d785b2161a49b6a.txt").title.startswith("二七区委常委会2020年工作报告出炉")


@pytest.mark.parametrize("needle", ["西南水系连通工程", "停车泊位8085个", "236个老旧小区改造"])
def test_layout_repair_joins_broken_sentences(needle):
    passages = [p for r in seed_reports() for p in cut_passages(r)]
    assert any(needle in p.text for p in passages)


def test_markup_is_removed_from_display_text():
    r = read_report(SEEDS / "001_a8b229ab2cc41fd9.txt")
    assert "地区生产总值完成253亿元" in r.text
    assert "**" not in r.text
    r4 = read_report(SEEDS / "004_9d785b2161a49b6a.txt")
    assert "#" not in r4.text


def test_headings_and_list_items_are_not_joined():
    r = read_report(SEEDS / "003_48a90a0ac8a58bc6.txt")
    items = [b.text for b in r.blocks if b.kind == "item"]
    assert items[0] == "地区生产总值增长9%左右" and len(items) == 8
    heading = next(b for b in r.blocks if b.text == "1 项目运作提效行动")
    assert heading.kind == "heading"


def test_html_page(corpus):
    r = read_report(corpus / "brief.html")
    assert r.title == "二七区生态建设简报"
    assert "脚本内容" not in r.text and "版权所有" not in r.text and "首页" not in r.text
    assert "优良天数达到234天" in r.text
    paths = {p.section_path for p in cut_passages(r)}
    assert ("二七区生态建设简报", "大气污染防治") in paths
    assert ("二七区生态建设简报", "河道治理") in paths


def test_gb18030_file(corpus):
    r = read_report(corpus / "gb.txt")
    assert r.year == 2016
    assert "地区生产总值完成600亿元" in r.text


def test_utf16_and_bom():
    assert decode_bytes("\ufeff二七".encode("utf-8")) == "二七"
    assert decode_bytes("二七区".encode("utf-16")) == "二七区"


def test_mixed_utf8_and_gb18030_lines():
    data = "第一行 UTF-8 文本\n".encode("utf-8") + "第二行 GB18030 文本\n".encode("gb18030")
    assert decode_bytes(data).splitlines() == ["第一行 UTF-8 文本", "第二行 GB18030 文本"]


def test_empty_and_binary_files_are_unreadable(corpus):
    with pytest.raises(UnreadableReport, match="empty"):
        read_report(corpus / "empty.txt")
    with pytest.raises(UnreadableReport, match="binary"):
        read_report(corpus / "binary.txt")


def test_missing_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableReport, match="cannot read"):
        read_report(tmp_path / "nope.txt")


def test_find_report_files_skips_other_types(corpus):
    skipped = []
    found = [p.name for p, _ in find_report_files([corpus], lambda path, reason: skipped.append((path.name, reason)))]
    assert found == ["binary.txt", "brief.html", "empty.txt", "gb.txt", "minsheng.md", "report.txt"]
    assert skipped == [("notes.pdf", "not a .txt, .md or .html file")]


def test_metadata_sidecar_overrides(tmp_path):
    (tmp_path / "a.txt").write_text("没有年份的报告\n\n正文内容足够长,用来测试元数据覆盖推断的结果。", encoding="utf-8")
    (tmp_path / "metadata.csv").write_text(
        "file,title,year,date,region,source\na.txt,元数据标题,2019,2019-03-05,河南,test\n", encoding="utf-8"
    )
    [(path, meta)] = list(find_report_files([tmp_path]))
    r = read_report(path, meta)
    assert (r.title, r.year, r.date, r.region) == ("元数据标题", 2019, "2019-03-05", "河南")


def test_year_without_metadata_comes_from_the_file_name(tmp_path):
    """A report copied out of its corpus keeps its year: its headline has none,
    its text only full-width years about other years."""
    source = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "gov_reports" / "1956_全国_国务院政府工作报告.txt"
    if not source.is_file():
        pytest.skip("shared corpus not present")
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes())
    assert "１９５５年" in read_report(copy).text and read_report(copy).year == 1956
    (tmp_path / "报告.txt").write_text("各位代表：\n\n一、１９９８年的工作回顾\n\n今年经济平稳运行。", encoding="utf-8")
    assert read_report(tmp_path / "报告.txt").year == 1998


def test_real_corpus_sample_reads():
    root = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "gov_reports"
    if not root.is_dir():
        pytest.skip("shared corpus not present")
    files = list(find_report_files([root]))
    assert len(files) == 120
    r = read_report(*files[-1])
    assert r.year == 2025 and cut_passages(r)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])
def test_read_tail_decodes_the_end_of_a_large_file(tmp_path, encoding):
    """Template tails read only the end of a file, decoded as the file is."""
    text = "正文段落，内容足够长。\n\n" * 2000 + "本文来源：某某网\n\n[查看原文](https://example.com/1234567)\n"
    path = tmp_path / "big.txt"
    path.write_bytes(text.encode(encoding))
    assert path.stat().st_size > 16 * 1024
    assert read_tail(path, 3) == ["正文段落，内容足够长。", "本文来源：某某网", "[查看原文](https://example.com/1234567)"]
    assert read_tail(tmp_path / "missing.txt") == []


def test_boilerplate_is_left_out_and_recorded(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("报告\n\n一、工作回顾\n\n经济运行总体平稳。\n\n本作品属于公有领域\n\nPublic domain\n", encoding="utf-8")
    r = read_report(path, boilerplate=frozenset(["本作品属于公有领域", "Public domain"]))
    assert r.boilerplate == ("本作品属于公有领域", "Public domain")
    assert r.text.endswith("经济运行总体平稳。") and all(p.section_path != ("Public domain",) for p in cut_passages(r))
