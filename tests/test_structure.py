"""Report structure in scraped corpora: outline headings and their levels,
front matter and the speaker, and corpus boilerplate (the trailing template
block). The oracle ``fixtures/gov_outlines.json`` holds 16 government work
reports checked by hand: their real headings with levels, lines that must
not be headings, and the speaker."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from erqi_search.boilerplate import min_files, template_shapes
from erqi_search.ingest import find_report_files, read_report, read_tail, template_tails
from erqi_search.outline import byline_name
from erqi_search.passages import cut_passages

from .conftest import SHARED

CORPUS = SHARED / "corpus"
GOV = CORPUS / "gov_reports"
FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "gov_outlines.json").read_text(encoding="utf-8"))
LICENCE_WORDS = {"法律", "法规", "公有领域", "Public domain", "false", "中国大陆", "不总是", "中华人民共和国著作权法"}

needs_gov = pytest.mark.skipif(not GOV.is_dir(), reason="shared corpus not present")


def norm(text: str) -> str:
    """The fixture's comparison form: ideographic and no-break spaces as
    spaces, white space collapsed."""
    return " ".join(text.replace("\u3000", " ").replace("\xa0", " ").split())


def outline(report) -> list[tuple[int, str]]:
    """``(level, text)`` per heading, levels numbered 1, 2, ... from the ranks."""
    heads = [(b.rank, norm(b.text)) for b in report.blocks if b.kind == "heading"]
    ranks = sorted({rank for rank, _ in heads})
    return [(ranks.index(rank) + 1, text) for rank, text in heads]


@pytest.fixture(scope="module")
def gov():
    """Every report of gov_reports, read with the directory's template tails."""
    files = list(find_report_files([GOV]))
    tails = template_tails(files)
    return tails, {path.name: read_report(path, meta, tails) for path, meta in files}


# ------------------------------------------------------------ the fixture

@needs_gov
@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_fixture_outline_front_matter_and_speaker(gov, name):
    entry, report = FIXTURE[name], gov[1][name]
    optional = {norm(text) for _, text in entry["optional_headings"]}
    got = [(level, text) for level, text in outline(report) if text not in optional]
    assert got == [(level, norm(text)) for level, text in entry["headings"]]
    headings = {text for _, text in got}
    assert not [line for line in entry["not_headings"] if norm(line) in headings]
    assert (report.speaker or None) == entry["speaker"]


@needs_gov
def test_top_sections_are_real_outline_headings(gov):
    """The section facet (first element of each passage's path) of a fixture
    report is one of its level-1 headings, as a section path shows it."""
    for name, entry in FIXTURE.items():
        tops = {p.section_path[0] for p in cut_passages(gov[1][name]) if p.section_path}
        real = {norm(text).removesuffix("。") for level, text in entry["headings"] if level == 1}
        assert tops <= real, name


@needs_gov
@pytest.mark.parametrize("name, expected", [
    ("1979_全国_国务院政府工作报告.txt",
     ["一、伟大的历史性转变", "二、打好四个现代化的第一个战役", "三、加强社会主义民主和社会主义法制", "四、反对霸权主义、维护世界和平"]),
    ("2017_全国_国务院政府工作报告.txt", ["一、2016年工作回顾", "二、2017年工作总体部署", "三、2017年重点工作任务"]),
])
def test_inspect_shows_the_real_outline(gov, name, expected):
    passages = cut_passages(gov[1][name])
    tops = list(dict.fromkeys(p.section_path[0] for p in passages if p.section_path))
    assert tops == expected
    assert not passages[0].section_path  # title, dateline, byline and salutation
    deep = {p.section_path for p in passages if len(p.section_path) > 1}
    assert all(path[0] == "三、2017年重点工作任务" for path in deep)
    assert not [p for p in passages if not p.text.strip("\u200b\n ")]


# ------------------------------------------------------------ the whole corpus

@needs_gov
def test_no_heading_in_the_corpus_is_debris(gov):
    tails, reports = gov
    boilerplate = {line for r in reports.values() for line in r.boilerplate}
    speakers = {r.speaker for r in reports.values() if r.speaker}
    assert {"李克强", "梁惠玲", "龚正"} <= speakers
    for name, report in reports.items():
        for block in report.blocks:
            if block.kind != "heading":
                continue
            text = block.text
            assert text not in boilerplate and text not in LICENCE_WORDS, (name, text)
            assert not byline_name(text) and text.replace(" ", "") not in speakers, (name, text)
            assert not re.fullmatch(r"[\d.]+", text), (name, text)  # '2.5', '2' from PM2.5
            assert text[0] not in "》」』”’）)、，。；：" and not text.endswith(("《", "“", "（")), (name, text)


@needs_gov
def test_the_1979_link_texts_stay_in_their_sentences(gov):
    report = gov[1]["1979_全国_国务院政府工作报告.txt"]
    assert any("《农村人民公社工作条例（试行草案）》" in b.text and b.kind == "para" for b in report.blocks)
    paths = {p.section_path for p in cut_passages(report)}
    assert all(len(path) == 1 for path in paths if path)


@needs_gov
def test_a_quote_is_not_cut_and_page_breaks_are_repaired(gov):
    text = gov[1]["2017_全国_国务院政府工作报告.txt"].text
    assert "“一带一路”建设" in text and "要全面深化各领域改革" in text and "\u200b" not in text


# ------------------------------------------------------------ boilerplate

@needs_gov
def test_the_licence_footer_is_the_template_tail_of_gov_reports(gov):
    tails, reports = gov
    assert {"Public domain", "false", "公有领域", "中华人民共和国著作权法", "本作品是中华人民共和国的"} <= tails
    assert "各位代表：" not in tails and "结束语" not in tails
    report = reports["2017_全国_国务院政府工作报告.txt"]
    assert report.boilerplate[0] == "本作品是中华人民共和国的" and report.boilerplate[-1] == "false"
    assert "公有领域" not in report.text
    assert report.text.endswith("实现中华民族伟大复兴的中国梦而不懈奋斗！")
    assert sum(1 for r in reports.values() if r.boilerplate) >= 60


def sample_tails(folder: str, n: int) -> list[list[str]]:
    files = sorted((CORPUS / folder).glob("*.txt"))
    random.Random(0).shuffle(files)
    return [read_tail(path) for path in files[:n]]


@pytest.mark.skipif(not (CORPUS / "lawrefbook").is_dir(), reason="shared corpus not present")
def test_laws_have_no_template_tail():
    """``第一章 总则`` and adoption lines repeat across laws, but not as a
    trailing run: nothing is boilerplate."""
    assert template_shapes(sample_tails("lawrefbook", 300)) == frozenset()


@pytest.mark.skipif(not (CORPUS / "xwlb").is_dir(), reason="shared corpus not present")
def test_news_footer_is_the_template_tail_of_xwlb():
    assert template_shapes(sample_tails("xwlb", 300)) == {"[查看原文](URL)", "---", "(更新时间戳: 0)"}


def test_template_tails_from_a_directory(tmp_path):
    footer = "\n\n本文来自某某网站\n[查看原文](https://example.com/{n})\n"
    for n in range(6):
        (tmp_path / f"{n}.txt").write_text(f"报告{n}\n\n一、工作回顾\n\n第{n}个正文段落。" + footer.format(n=n * 1234567),
                                           encoding="utf-8")
    (tmp_path / "lone.txt").write_text("另一份报告\n\n正文。\n本文来自某某网站", encoding="utf-8")
    tails = template_tails([tmp_path / "0.txt"])  # the whole directory is read
    assert tails == {"本文来自某某网站", "[查看原文](URL)"}
    report = read_report(tmp_path / "3.txt", boilerplate=tails)
    assert report.boilerplate == ("本文来自某某网站", f"[查看原文](https://example.com/{3 * 1234567})")
    assert report.text.endswith("第3个正文段落。")
    assert read_report(tmp_path / "3.txt").boilerplate == ()  # without the directory's tails
    assert min_files(100) == 5 and min_files(1000) == 20


def test_an_index_leaves_out_the_template_and_recuts_when_it_changes(tmp_path):
    from erqi_search import build_index, index_status, open_index, update_index

    src = tmp_path / "src"
    src.mkdir()
    for n in range(6):
        (src / f"{n}.txt").write_text(f"报告{n}\n\n一、工作回顾\n\n第{n}个正文段落。\n\n本文来自某某网站\n", encoding="utf-8")
    build_index([src], tmp_path / "ix", jobs=1)
    assert index_status(tmp_path / "ix").boilerplate == ["本文来自某某网站"]
    with open_index(tmp_path / "ix") as index:
        assert index.search("某某网站").total == 0
    (src / "0.txt").write_text("报告0\n\n一、工作回顾\n\n第0个正文段落。\n", encoding="utf-8")
    update_index(tmp_path / "ix", jobs=1)  # five files keep the footer: still a template
    with open_index(tmp_path / "ix") as index:
        assert index.search("某某网站").total == 0
    (src / "1.txt").write_text("报告1\n\n一、工作回顾\n\n第1个正文段落。\n", encoding="utf-8")
    report = update_index(tmp_path / "ix", jobs=1)  # four: no template, every file is cut anew
    assert index_status(tmp_path / "ix").boilerplate == [] and len(report.changed) == 6
    with open_index(tmp_path / "ix") as index:
        assert index.search("某某网站").total == 4


def test_a_template_of_one_folder_is_not_cut_from_another(tmp_path):
    """Template tails are judged and applied per folder: the footer of a
    folder of six reports stays in the one report of another folder."""
    from erqi_search import build_index, open_index
    from erqi_search.ingest import read_reports

    site, other = tmp_path / "site", tmp_path / "other"
    site.mkdir()
    other.mkdir()
    for n in range(6):
        (site / f"{n}.txt").write_text(f"报告{n}\n\n一、工作回顾\n\n第{n}个正文段落。\n\n本文来自某某网站\n",
                                       encoding="utf-8")
    (other / "own.txt").write_text("另一份报告\n\n正文写明出处。\n\n本文来自某某网站\n", encoding="utf-8")
    assert [r.boilerplate for r in read_reports([other, site]) if r.doc_id == "own"] == [()]
    build_index([site, other], tmp_path / "ix", jobs=1)
    with open_index(tmp_path / "ix") as index:
        assert [h.doc_id for h in index.search("某某网站").hits] == ["own"]


def test_a_small_directory_has_no_template(tmp_path):
    for n in range(4):
        (tmp_path / f"{n}.txt").write_text(f"正文{n}。\n版权所有", encoding="utf-8")
    assert template_tails([tmp_path / "0.txt"]) == frozenset()


def test_outline_numbered_lines_are_never_boilerplate(tmp_path):
    for n in range(6):
        (tmp_path / f"{n}.txt").write_text(f"条例{n}\n\n第一条 正文{n}。\n\n第二章 附则\n\n本条例自公布之日起施行。",
                                           encoding="utf-8")
    tails = template_tails([tmp_path / "0.txt"])
    assert tails == {"本条例自公布之日起施行。"}
    assert "第二章 附则" in read_report(tmp_path / "0.txt", boilerplate=tails).text


# ------------------------------------------------------------ rules, one by one

def parse(tmp_path, text: str, name: str = "r.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = read_report(path)
    return report, [(b.kind, b.text) for b in report.blocks], cut_passages(report)


def test_link_fragments_join_their_sentence(tmp_path):
    """R2: a link text put on its own line joins its sentence in a file whose
    paragraphs are separated by blank lines."""
    report, blocks, _ = parse(tmp_path, "各位代表：\n\n一、工作回顾\n\n我们以\n习近平\n同志为核心的党中央周围，"
                                        "落实\n农村人民公社工作条例（试行草案）\n的规定。\n\n二、今年的任务\n\n"
                                        "推进“\n一带一路\n”建设。\n\n控制\nPM\n2.5\n浓度。")
    assert ("para", "我们以习近平同志为核心的党中央周围，落实农村人民公社工作条例（试行草案）的规定。") in blocks
    assert ("para", "推进“一带一路”建设。") in blocks
    assert ("para", "控制PM2.5浓度。") in blocks
    assert [t for k, t in blocks if k == "heading"] == ["一、工作回顾", "二、今年的任务"]


def test_bare_labels_page_breaks_and_a_heading_over_two_lines(tmp_path):
    _, blocks, _ = parse(tmp_path, "各位代表：\n一、工作回顾\n过去一年的工作很不平凡，取得了很大成绩，我们克服了困难，经济运行总体平稳。\n"
                                   "第一、\n坚持以农业为基础。\n要全面深化各领域改\n\u200b\n革。\n"
                                   "三、持续提升政府\n治理效能和服务水平\n"
                                   "建设人民满意的政府，必须坚持依法行政，提高行政效能，全面加强政府自身建设和廉政建设，"
                                   "自觉接受各方面监督。")
    assert ("para", "第一、坚持以农业为基础。") in blocks
    assert ("para", "要全面深化各领域改革。") in blocks
    assert ("heading", "三、持续提升政府治理效能和服务水平") in blocks


def test_an_html_report_names_its_speaker_too(tmp_path):
    """The byline above the salutation names the speaker of an HTML page as of a text file."""
    page = ("<html><head><title>2025年某省政府工作报告</title></head><body>"
            "<p>某省人民政府省长\u3000龚 正</p><p>各位代表：</p><p>现在，我代表省人民政府向大会报告工作。</p>"
            "<h2>一、2024年工作回顾</h2><p>过去一年，经济回升向好。</p></body></html>")
    (tmp_path / "r.html").write_text(page, encoding="utf-8")
    assert read_report(tmp_path / "r.html").speaker == "龚正"


def test_front_matter_and_byline_make_the_speaker(tmp_path):
    """R3: title, source, dateline and byline precede the salutation; they are
    never headings and the byline names the speaker (spaces removed)."""
    report, blocks, passages = parse(tmp_path, "2025年某省政府工作报告\n来源：某某日报\n"
                                               "——2025年1月13日在某省第十四届人民代表大会第三次会议上\n"
                                               "某省人民政府省长\u3000龚 正\n各位代表：\n现在，我代表省人民政府向大会报告工作。\n"
                                               "一、2024年工作回顾\n过去一年，经济回升向好。")
    assert report.speaker == "龚正"
    assert [t for k, t in blocks if k == "heading"] == ["一、2024年工作回顾"]
    assert {p.section_path for p in passages} == {(), ("一、2024年工作回顾",)}
    report, _, _ = parse(tmp_path, "政府工作报告\n国务院总理\n李克强\n各位代表：\n现在，我代表国务院作报告。", "b.txt")
    assert report.speaker == "李克强"
    report, _, _ = parse(tmp_path, "报告\n——2025年1月14日在某市人民代表大会会议上某市市长 殷勇同志作政府工作报告。\n"
                                   "各位代表：\n现在作报告。", "c.txt")
    assert report.speaker == "殷勇"


def test_a_signature_is_not_a_heading(tmp_path):
    report, blocks, _ = parse(tmp_path, "主席令\n\n中华人民共和国主席 习近平\n\n2025年1月1日\n\n正文内容。")
    assert ("para", "中华人民共和国主席 习近平") in blocks and report.speaker == ""


def test_levels_follow_the_order_of_first_appearance(tmp_path):
    """R7: an unnumbered heading met under ``二、`` is one level down, not above
    it (1957); back matter opens a new scope (云南 附件 › 实事 › 一、)."""
    _, _, passages = parse(tmp_path, "各位代表：\n\n一、关于社会主义革命\n\n正文一。\n\n二、关于社会主义建设\n\n"
                                     "下面讲两个问题。\n\n关于教育改革问题\n\n正文二。\n\n三、关于人民生活\n\n正文三。\n\n"
                                     "附件\n\n2025年10件惠民实事\n\n一、稳定和扩大就业\n\n年度目标：转移就业。")
    paths = list(dict.fromkeys(p.section_path for p in passages))
    assert paths == [(), ("一、关于社会主义革命",), ("二、关于社会主义建设",), ("二、关于社会主义建设", "关于教育改革问题"),
                     ("三、关于人民生活",), ("附件", "2025年10件惠民实事", "一、稳定和扩大就业")]


def test_a_lone_preface_heading_does_not_own_the_outline(tmp_path):
    _, _, passages = parse(tmp_path, "各位代表：\n\n首先报告2001年的工作\n\n经济保持良好发展势头。\n\n"
                                     "一、扩大和培育内需\n\n正文一。\n\n二、加快农业发展\n\n正文二。")
    assert {p.section_path for p in passages} == {(), ("首先报告2001年的工作",), ("一、扩大和培育内需",),
                                                   ("二、加快农业发展",)}


def test_sentence_headings_and_list_runs(tmp_path):
    """R4/R8: a standalone ``（一）…。`` followed by its body is a heading (shown
    without ``。``); a run of such lines is a list; ``一、…。`` is a list item."""
    report, blocks, passages = parse(tmp_path, "各位代表：\n一、重点工作任务\n今年要做好以下工作。\n"
                                               "（一）用改革的办法推进结构调整。\n深化供给侧结构性改革，扩大有效需求，稳定经济增长。\n"
                                               "（二）深化重要领域改革。\n推进国企国资改革，激发市场主体活力。\n"
                                               "二、调整任务\n主要是：\n（一）要增产粮食。\n（二）要节约能源。\n（三）要缩短战线。\n"
                                               "一、坚持发展。\n二、坚持改革。\n这些要求必须落实。")
    heads = [t for k, t in blocks if k == "heading"]
    assert heads == ["一、重点工作任务", "（一）用改革的办法推进结构调整。", "（二）深化重要领域改革。", "二、调整任务"]
    assert ("一、重点工作任务", "（一）用改革的办法推进结构调整") in {p.section_path for p in passages}


def test_lead_sentences_figures_and_clause_ends_are_not_headings(tmp_path):
    _, blocks, _ = parse(tmp_path, "各位代表：\n一、工作回顾\n一是继续创新和加强宏观调控。\n经济运行保持在合理区间。\n"
                                   "2.5\n第一，坚持解放思想。\n（一）告诉才处理的案件：\n本条所称案件包括下列情形。")
    assert [t for k, t in blocks if k == "heading"] == ["一、工作回顾"]


def test_unnumbered_heading_needs_to_stand_outside_a_sentence(tmp_path):
    """R5 in both layouts: blank lines around it (where paragraphs are
    separated by blank lines), or a sentence end before it."""
    _, blocks, _ = parse(tmp_path, "各位代表：\n\n一、工作回顾\n\n今年是我国与\n印度\n建交七十周年，双方关系稳定发展。\n\n"
                                   "结束语\n\n让我们共同努力，创造更加美好的未来！")
    assert [t for k, t in blocks if k == "heading"] == ["一、工作回顾", "结束语"]
    _, blocks, _ = parse(tmp_path, "各位代表：\n一、工作回顾\n过去一年，我们坚持\n人民至上\n的理念，做好各项工作。\n"
                                   "关于教育改革问题\n教育改革要稳步推进。\n总体要求\n重点工作\n人民生活继续改善。", "b.txt")
    assert [t for k, t in blocks if k == "heading"] == ["一、工作回顾", "关于教育改革问题"]  # not '总体要求' '重点工作'


# ------------------------------------------------------ a built index of them

@pytest.fixture(scope="module")
def gov_index(tmp_path_factory):
    """An index of the fixture reports plus a sample of others, read from the
    corpus folder (so the folder's template tails apply)."""
    from erqi_search import build_index, open_index

    others = sorted(p for p in GOV.glob("*.txt") if p.name not in FIXTURE)
    sample = [GOV / name for name in sorted(FIXTURE)] + random.Random(7).sample(others, 8)
    path = tmp_path_factory.mktemp("gov") / "ix"
    build_index(sample, path, jobs=2)
    with open_index(path) as index:
        yield path, index


@needs_gov
def test_section_facets_of_the_built_index_are_real_headings(gov_index, gov):
    """The top section values of the built index, for every passage, are
    level-1 outline headings of their reports; none is a licence word, a link
    fragment or a name."""
    path, index = gov_index
    speakers = {r.speaker for r in gov[1].values() if r.speaker}
    facets = index.search("发展 工作 经济 人民", facets=True, limit=1).facets["section"]
    assert len(facets) >= 20
    for section in facets:
        assert section not in LICENCE_WORDS and section.replace(" ", "") not in speakers, section
        assert not byline_name(section) and "http" not in section and not re.fullmatch(r"[\d.]+", section), section
    for name, entry in FIXTURE.items():
        real = {norm(text).removesuffix("。") for level, text in entry["headings"] if level == 1}
        tops = {p.section_path[0] for p in index.document(Path(name).stem) if p.section_path}
        assert tops <= real, name


@needs_gov
def test_index_status_and_inspect_say_what_was_left_out(gov_index):
    from click.testing import CliRunner

    from erqi_search.cli import main

    path, index = gov_index
    status = CliRunner().invoke(main, ["index", "status", "--index", str(path), "-f", "json"])
    shapes = json.loads(status.stdout)["boilerplate"]
    assert any("公有领域" in shape for shape in shapes)
    assert "template:" in CliRunner().invoke(main, ["index", "status", "--index", str(path)]).stdout
    shown = CliRunner().invoke(main, ["inspect", str(GOV / "2017_全国_国务院政府工作报告.txt")]).stdout
    assert "speaker: 李克强" in shown and "left out (template):" in shown
    assert not any("公有领域" in p.text for p in index.all_passages())


@needs_gov
@pytest.mark.parametrize("term", ["改革开放", "人民", "GDP", "生态文明", "农业"])
def test_trend_counts_equal_a_count_of_the_stored_text(gov_index, term):
    from erqi_search.text import normalize_text

    path, index = gov_index
    expected: dict = {}
    for p in index.all_passages():
        if normalize_text(term) in normalize_text(p.text):
            expected[p.year] = expected.get(p.year, 0) + 1
    got = {point.year: point.passages for point in index.trend(term).points if point.passages}
    assert got == expected


def test_copies_of_one_report_are_not_a_template(tmp_path):
    for n in range(8):
        (tmp_path / f"{n}.txt").write_text("报告\n\n一、工作回顾\n\n正文段落。\n\n今年要办好十件实事。", encoding="utf-8")
    assert template_tails([tmp_path / "0.txt"]) == frozenset()
