"""The query layer and ranking on the seed index (issues 4 and 6)."""

import re

import pytest

from erqi_search.text import normalize_text
from erqi_search.errors import QuerySyntaxError
from erqi_search.ingest import read_report
from erqi_search.passages import cut_passages

from .conftest import SEEDS


def texts(results):
    return [h.text for h in results.hits]


def norm(s):
    return re.sub(r"\s+", "", normalize_text(s))


@pytest.mark.parametrize(
    "query, needle",
    [
        ("溫暖二七", "温暖二七"),
        ("ＰＭ１０", "PM10"),
        ("城乡结合部改造", "城乡接合部综合改造"),
        ("GDP", "地区生产总值"),
        ("停车泊位", "停车泊位8085个"),
        ("空气污染", "大气污染防治"),
        ("河长制", "河长负责制"),
        ("28.6亿元", "28.6亿元"),
        ("8085个", "停车泊位8085个"),
        ("9%", "增长9%左右"),
    ],
)
def test_variants_synonyms_and_numbers_are_found(seed_index, query, needle):
    results = seed_index.search(query, limit=10)
    assert any(needle in t for t in texts(results)), query


def test_synonym_scores_below_the_typed_term(seed_index):
    typed = seed_index.search("城乡接合部", limit=1).hits[0]
    variant = seed_index.search("城乡结合部", limit=1).hits[0]
    assert typed.passage_id == variant.passage_id and variant.score < typed.score


@pytest.mark.parametrize("phrase", ["临时党支部", "社会消费品零售总额", "二七广场"])
def test_phrase_matches_exactly_the_passages_containing_it(seed_index, phrase):
    results = seed_index.search(f'"{phrase}"', limit=1000)
    expected = {
        p.passage_id for path in sorted(SEEDS.iterdir()) for p in cut_passages(read_report(path)) if phrase in p.text
    }
    assert {h.passage_id for h in results.hits} == expected and results.total == len(expected)


def test_every_passage_is_found_by_its_own_sentence(seed_index):
    """Query and index segmentation agree: a passage's longest sentence finds it first."""
    misses = []
    for path in sorted(SEEDS.iterdir()):
        for p in cut_passages(read_report(path)):
            sentences = [s for s in re.split(r"[。；;！？!?\n]", p.text) if len(s) >= 8]
            if not sentences:
                continue
            sentence = max(sentences, key=len)[:30]
            hits = seed_index.search(sentence.replace('"', ""), limit=3).hits
            if not hits or norm(sentence) not in norm(hits[0].text):
                misses.append((p.passage_id, sentence))
    assert not misses


def test_year_filters(seed_index):
    for results in (seed_index.search("year:2020 项目"), seed_index.search("项目", year=2020, limit=50)):
        assert results.hits and {h.year for h in results.hits} == {2020}
    ranged = seed_index.search("建设 year:[2017 TO 2018]", limit=1000)
    assert {h.year for h in ranged.hits} == {2017, 2018}


def test_section_filter(seed_index):
    for results in (seed_index.search("section:生态"), seed_index.search("治理", section="生态", limit=50)):
        assert results.hits
        assert all(any("生态" in s for s in h.section_path) for h in results.hits)


def test_keyword_filter_and_alias(seed_index):
    a = seed_index.search("keyword:大气污染防治", limit=100)
    b = seed_index.search("关键词:大气污染防治", limit=100)
    assert a.total == b.total > 0
    assert all("大气污染防治" in h.keywords or "大气污染防治" in h.key_terms for h in a.hits)


def test_not_and_minus(seed_index):
    base = seed_index.search("扬尘", limit=100)
    without = seed_index.search("扬尘 -工地", limit=100)
    assert without.total < base.total
    assert all("工地" not in h.text for h in without.hits)
    assert seed_index.search("扬尘 NOT 工地", limit=100).total == without.total


def test_or_and_parentheses(seed_index):
    a = seed_index.search('"散煤"', limit=100).total
    b = seed_index.search('"樱桃沟"', limit=100).total
    both = seed_index.search('("散煤" OR "樱桃沟")', limit=100)
    assert both.total == a + b


def test_all_terms_rank_above_some_terms(seed_index):
    results = seed_index.search("安置房 回迁", limit=50)
    flags = [("安置房" in h.text and "回迁" in h.text) for h in results.hits]
    assert flags[0] and flags == sorted(flags, reverse=True)
    assert results.total > sum(flags)  # passages with only one term still come back


def test_doc_and_title_fields(seed_index):
    assert {h.doc_id for h in seed_index.search("doc:003 项目", limit=50).hits} == {"003_48a90a0ac8a58bc6"}
    assert {h.doc_id for h in seed_index.search("title:期中成绩单", limit=100).hits} == {"001_a8b229ab2cc41fd9"}


@pytest.mark.parametrize(
    "query, fragment",
    [('"社会消费品', "引号未闭合"), ("(大气 污染", "括号未闭合"), ("大气)", "右括号"), ("foo:bar", "未知字段"),
     ("year:abc", "年份无效"), ("year:", "缺少值"), ("大气 AND", "AND 后"), ("OR 大气", "OR 前"),
     ("year:[2017 TO", "范围未闭合")],
)
def test_bad_syntax_raises_with_hints(seed_index, query, fragment):
    with pytest.raises(QuerySyntaxError, match=fragment) as info:
        seed_index.search(query)
    assert re.search(r"[a-z]", str(info.value))  # an English hint too


def test_nothing_searchable_returns_no_hits_with_hint(seed_index):
    results = seed_index.search("的 了 ，。")
    assert results.total == 0 and results.hits == [] and "nothing searchable" in results.hint


def test_highlights_are_matched_terms_or_variants(seed_index):
    for query in ("大气污染防治", "GDP", "溫暖二七", "城乡结合部改造", "停车泊位 智慧"):
        results = seed_index.search(query, limit=10)
        allowed = {normalize_text(x) for x in ("大气污染防治", "空气污染防治", "蓝天保卫战", "gdp", "地区生产总值",
                                               "生产总值", "国内生产总值", "温暖二七", "温暖", "二七", "城乡结合部",
                                               "城乡接合部", "改造", "停车泊位", "停车位", "车位", "智慧")}
        assert results.hits[0].highlights
        for hit in results.hits:
            for s, e in hit.highlights:
                assert normalize_text(hit.text[s:e]) in allowed, (query, hit.text[s:e])


def test_facets_sum_to_total(seed_index):
    results = seed_index.search("建设", facets=True, limit=5)
    assert sum(results.facets["year"].values()) == results.total
    assert sum(results.facets["section"].values()) == results.total


def test_paging_is_disjoint_and_covers_the_first_hits(seed_index):
    first = seed_index.search("发展", limit=30)
    pages = [seed_index.search("发展", limit=10, page=n) for n in (1, 2, 3)]
    ids = [h.passage_id for p in pages for h in p.hits]
    assert len(ids) == len(set(ids)) == 30
    assert ids == [h.passage_id for h in first.hits]


def test_ties_broken_by_newest_year(seed_index):
    results = seed_index.search("year:[2017 TO 2020]", limit=200)
    years = [h.year for h in results.hits]
    assert years == sorted(years, reverse=True)
