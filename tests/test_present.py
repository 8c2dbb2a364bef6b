"""Presentation on its own (issue 17): highlights, snippets, tables aligned by
display width, and the JSON, text and HTML renderings of a page of results."""

import json

from erqi_search.model import Hit, Passage, SearchResults
from erqi_search.present import (
    display_width,
    highlight_spans,
    highlighted,
    make_snippet,
    render_html,
    render_json,
    render_table,
    render_text,
    snippet_window,
)

TEXT = ("全区空气质量持续改善,PM2.5年累积浓度84微克/立方米。扬尘治理成效明显,建筑工地全部落实“三员”管理。"
        "溫暖二七建设扎实推进,新建口袋公园12个,群众满意度明显提升。") * 3


def results(text=TEXT, query="扬尘"):
    passage = Passage("r", "r#001", 1, "<b>标题</b>", 2019, "", "", "r.txt", ("关键词:扬尘治理",), ("扬尘治理",),
                      (), text, (0, len(text)))
    spans, snippet, inner = highlighted(text, ["扬尘", "溫暖"])
    hit = Hit(passage, 12.5, snippet, tuple(spans), tuple(inner))
    return SearchResults(query, 3, 1, [hit], {"year": {2019: 3}}, "", 10, 2, ["a note"])


def test_highlights_find_normalised_forms_and_merge():
    spans = highlight_spans(TEXT, ["温暖二七", "二七建设", "pm2.5"])
    marked = [TEXT[s:e] for s, e in spans]
    assert marked[:2] == ["PM2.5", "溫暖二七建设"]  # traditional form and overlap merged


def test_snippet_window_prefers_the_most_distinct_terms_within_bounds():
    spans = highlight_spans(TEXT, ["扬尘", "口袋公园"])
    start, end = snippet_window(TEXT, spans)
    assert 80 <= end - start <= 160
    window = TEXT[start:end]
    assert "扬尘" in window and "口袋公园" in window
    snippet, inner = make_snippet(TEXT, spans)
    assert snippet.startswith("…") or start == 0
    assert all(snippet[s:e] in ("扬尘", "口袋公园") for s, e in inner)


def test_short_text_is_its_own_snippet():
    assert make_snippet("扬尘治理。", [(0, 2)]) == ("扬尘治理。", [(0, 2)])


def test_display_width_and_aligned_tables():
    assert display_width("地区生产总值") == 12 and display_width("GDP") == 3
    table = render_table(["指标", "值"], [["地区生产总值", "253亿元"], ["GDP", "9%"]], right={1})
    lines = table.split("\n")
    assert [display_width(line) for line in lines] == [display_width(lines[1])] * 3


def test_json_contract_has_both_totals_and_string_facet_keys():
    data = json.loads(render_json(results()))
    assert (data["total"], data["total_all_terms"], data["page"], data["limit"]) == (3, 2, 1, 10)
    assert data["facets"] == {"year": {"2019": 3}} and data["notes"] == ["a note"]
    hit = data["hits"][0]
    assert set(hit) == {"doc_id", "passage_id", "title", "year", "date", "section", "section_path", "keywords", "text",
                        "snippet", "highlights", "score"}
    assert hit["section"] == "关键词:扬尘治理" and hit["score"] == 12.5


def test_text_marks_matches_and_html_escapes_everything():
    plain = render_text(results())
    assert "[扬尘]" in plain and "1. <b>标题</b> (2019)  [r#001]" in plain
    page = render_html(results(query="<script>alert(1)</script>"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;标题" in page
    assert "<mark>扬尘</mark>" in page
