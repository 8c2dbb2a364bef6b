import shutil

import pytest

from erqi_search.analysis import key_terms
from erqi_search.ingest import read_report
from erqi_search.passages import MAX_CHARS, cut_passages, split_long

from .conftest import SEEDS


def passages_of(name):
    return cut_passages(read_report(next(SEEDS.glob(name + "*"))), key_terms)


def test_coal_passage_section_and_keyword():
    coal = next(p for p in passages_of("001") if "散煤" in p.text)
    assert coal.section_path == ("【靠抓手 见成效】", "大气污染防治")
    assert "大气污染防治" in coal.keywords


def test_every_keyword_section_passage_carries_its_keyword():
    for p in passages_of("001"):
        if p.section_path and p.section_path[-1] == "大气污染防治":
            assert p.keywords == ("大气污染防治",)


def test_000_passages_under_ecology_heading():
    eco = [p for p in passages_of("000") if "生态2018" in p.section_path]
    assert len(eco) == 3
    assert any("西南水系连通工程" in p.text for p in eco)


def test_003_numbered_heading():
    project = [p for p in passages_of("003") if p.section_path == ("1 项目运作提效行动",)]
    assert project and any("121个重大项目" in p.text for p in project)


def test_004_markdown_chain():
    p = next(p for p in passages_of("004") if "临时党支部559个" in p.text)
    assert p.section_path == (
        "二七区委常委会2020年工作报告出炉 围绕“中优典范、西美示范”功能定位 各项事业迈出新步伐取得新成绩",
        "坚持稳中求进 聚力抓好八方面工作",
        "坚持党要管党从严治党 党建质量全面提升",
    )


def test_every_character_lands_in_exactly_one_passage():
    for path in sorted(SEEDS.iterdir()):
        report = read_report(path)
        text = report.text
        covered = [0] * len(text)
        for p in cut_passages(report):
            s, e = p.span
            assert text[s:e] == p.text
            for i in range(s, e):
                covered[i] += 1
        assert all(c == 1 for c, ch in zip(covered, text) if not ch.isspace())
        assert all(c <= 1 for c in covered)


def test_short_fragments_merge_and_long_paragraphs_split():
    for path in sorted(SEEDS.iterdir()):
        for p in cut_passages(read_report(path)):
            assert len(p.text) <= MAX_CHARS + 120  # headings ride along
    byline = [p for p in passages_of("004") if "记者 张改华" in p.text]
    assert byline and len(byline[0].text) > 20


def test_split_long_at_sentence_ends():
    text = "第一句话。" * 100
    spans = split_long(text)
    assert all(e - s <= MAX_CHARS for s, e in spans)
    assert "".join(text[s:e] for s, e in spans) == text
    assert all(text[e - 1] == "。" for s, e in spans)


def test_passage_ids_are_the_file_stem_and_an_ordinal(tmp_path):
    ids = [p.passage_id for p in passages_of("002")]
    assert ids == [f"002_3f13d9cc05edbc24#{n:03d}" for n in range(1, len(ids) + 1)] and len(ids) > 5
    copy = tmp_path / "elsewhere" / "002_3f13d9cc05edbc24.txt"  # the same file in another folder
    copy.parent.mkdir()
    shutil.copy(next(SEEDS.glob("002*")), copy)
    assert [p.passage_id for p in cut_passages(read_report(copy))] == ids


def test_report_passages_still_works_with_a_deprecation_warning():
    report = read_report(next(SEEDS.glob("001*")))
    with pytest.warns(DeprecationWarning, match="cut_passages"):
        old = report.passages
    assert old == cut_passages(report, key_terms) and any(p.key_terms for p in old)


def test_key_terms_are_extracted_and_kept_apart():
    p = next(p for p in passages_of("001") if "散煤" in p.text)
    assert "散煤" in p.key_terms
    assert "二七区" not in p.key_terms
