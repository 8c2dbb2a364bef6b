import pickle
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erqi_search.analysis import (
    ANALYZER_VERSION,
    ErqiAnalyzer,
    STOP_WORDS,
    analyze_text,
    grams,
    normalize,
    normalize_text,
    synonym_classes,
    tokenize,
    words,
)
from erqi_search.dictionary import full_segmenter
from erqi_search.ingest import read_report
from erqi_search.passages import cut_passages

from .conftest import SEEDS


def seed_passages():
    return [p for path in sorted(SEEDS.iterdir()) for p in cut_passages(read_report(path))]


def test_token_offsets_point_into_the_original_text():
    seg = full_segmenter()
    checked = 0
    for p in seed_passages():
        for tok in tokenize(p.text, seg):
            assert normalize_text(p.text[tok.start : tok.end]) == tok.text
            checked += 1
    assert checked > 5000


@pytest.mark.parametrize("text", ["面积167万㎡,①号楼", "ＰＭ２．５下降", "溫暖二七,第3季度", "碳中和、1+N政策"])
def test_offsets_survive_length_changing_normalisation(text):
    for tok in tokenize(text):
        assert normalize_text(text[tok.start : tok.end]) == tok.text


def test_normalisation():
    assert normalize_text("ＰＭ１０") == "pm10"
    assert normalize_text("溫暖二七") == "温暖二七"
    assert normalize("㎡")[0] == "m2"


def test_numbers_and_units_stay_whole():
    toks = [t.text for t in tokenize("地区生产总值完成28.6亿元,PM2.5下降9%,停车泊位8085个,第3季度")]
    for expected in ("28.6", "亿元", "pm2.5", "9%", "8085", "3", "季度"):
        assert expected in toks


def test_policy_terms_are_words():
    seg = full_segmenter()
    for term in ("碳中和", "碳达峰", "新质生产力", "高质量发展", "中国式现代化", "乡村振兴", "一带一路"):
        assert seg.cut(term) == [term]
    assert "碳中和" in [t.text for t in tokenize("实现碳中和目标")]


def test_stop_words_are_short_and_drop_particles():
    assert len(STOP_WORDS) < 40 and "和" not in STOP_WORDS
    assert "的" not in [t.text for t in tokenize("二七区的发展")]


def test_search_mode_emits_parts():
    toks = [t.text for t in tokenize("社会消费品零售总额")]
    assert toks[-1] == "社会消费品零售总额" and "零售总额" in toks and "消费品" in toks


def test_grams_break_at_punctuation():
    assert grams("甲乙，乙丙") == [("甲乙", 0), ("乙丙", 2)]
    assert grams("PM2.5，下降") == [("下降", 1)]  # pm2.5 is one atom; the comma breaks the pair
    assert grams("PM2.5下降") == [("pm2.5下", 0), ("下降", 1)]


def test_stored_query_dictionary_segments_like_the_full_dictionary(tmp_path):
    """Query segmentation (the table stored with the index, read on demand)
    agrees with build-time segmentation, sentence by sentence on the seeds."""
    from erqi_search.dictionary import stored_segmenter, write_query_dictionary

    seg = full_segmenter()
    total = write_query_dictionary(tmp_path / "q.lex", seg)
    stored = stored_segmenter((tmp_path / "q.lex").read_bytes(), total)
    sentences = [s for p in seed_passages() for s in re.split(r"[。；;！？\n]", p.text) if s]
    assert len(sentences) > 300
    for sentence in sentences:
        assert words(sentence, stored) == words(sentence, seg)


def test_synonym_table_classes():
    classes = synonym_classes()
    assert "地区生产总值" in classes["gdp"]
    assert "空气污染" in classes["大气污染"]
    assert "城乡接合部" in classes["城乡结合部"]
    assert "河长负责制" in classes["河长制"]
    assert "停车泊位" in classes["停车位"]


def test_analyzer_is_picklable_and_versioned():
    analyzer = pickle.loads(pickle.dumps(ErqiAnalyzer("grams")))
    assert analyzer == ErqiAnalyzer("grams") and analyzer.version == ANALYZER_VERSION
    assert [t.text for t in ErqiAnalyzer("words")("二七区", positions=True)] == ["二七", "七区", "二七区"]


def test_grow_candidates_finds_terms_the_dictionary_lacks():
    from erqi_search.candidates import grow_candidates

    reports = [read_report(p) for p in sorted(SEEDS.iterdir())]
    candidates = grow_candidates(reports)
    seg = full_segmenter()
    assert candidates and all(normalize_text(c) not in seg for c in candidates)
    assert "主要经济指标" in candidates  # a 关键词 line of 001


def test_dictionary_command_prints_candidates():
    from click.testing import CliRunner

    from erqi_search.cli import main

    result = CliRunner().invoke(main, ["dictionary", "candidates", str(SEEDS)])
    assert result.exit_code == 0
    assert "主要经济指标" in result.output.splitlines()


ASSIGNED = st.characters(codec="utf-8", exclude_categories=("Cs", "Cn"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(ASSIGNED, st.sampled_from(list("大气污染防治二七区ＰＭ２．５%㎡,，。 ")))
               .filter(lambda c: len(normalize_text(c)) <= 1), max_size=60))
def test_the_index_and_the_whoosh_analyzer_cut_alike(text):
    """analyze_text (what the index holds) and tokenize / grams (the Whoosh
    analyzer, with offsets) share the pieces and the sub-words: the same
    words and the same pairs. (A character that normalises to several, such
    as ¼, is one token with its offsets in tokenize.)"""
    seg = full_segmenter()
    search, _, pairs = analyze_text(text, seg)
    assert Counter(t.text for t in tokenize(text, seg)) == Counter(search)
    assert grams(text) == pairs


def test_the_seeds_cut_alike():
    seg = full_segmenter()
    for path in sorted(SEEDS.iterdir()):
        for line in path.read_text(encoding="utf-8").splitlines():
            search, _, pairs = analyze_text(line, seg)
            assert Counter(t.text for t in tokenize(line, seg)) == Counter(search) and grams(line) == pairs
