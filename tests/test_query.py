"""The query layer on its own (issue 17): the parser's syntax tree, the
compiler's plans (pure: no index needed), the bounds on a query's size."""

import pytest

from erqi_search.dictionary import Segmenter
from erqi_search.errors import QuerySyntaxError
from erqi_search.plan import All, Any, Exclude, Filter, Phrase, Soft, Term, YearForm
from erqi_search.query import FIELDS, Field, Not, Or, QueryCompiler, Seq, Text, parse
from erqi_search.query import Phrase as Quoted
from erqi_search.ranking import MAX_DEPTH, MAX_TERMS

SEG = Segmenter({"大气": 50, "污染": 50, "防治": 40, "大气污染": 30, "安置房": 20, "回迁": 20, "扬尘": 20, "工地": 20,
                 "城乡": 30, "结合部": 10, "改造": 20, "如何": 30}, 10_000)


def compile_(query, **options):
    return QueryCompiler(SEG, **options).compile(parse(query))


# ------------------------------------------------------------------ parser

def test_parse_tree_of_every_construct():
    assert parse("大气 回迁") == Seq([Text("大气"), Text("回迁")])
    assert parse("大气 AND 回迁") == Seq([Text("大气"), Text("回迁")], hard=True)
    assert parse("大气 OR 回迁") == Or([Text("大气"), Text("回迁")])
    assert parse("-扬尘") == Not(Text("扬尘")) and parse("NOT 扬尘") == Not(Text("扬尘"))
    assert parse('"临时 党支部"') == Quoted("临时 党支部") and parse("“临时党支部”") == Quoted("临时党支部")
    assert parse("year:[2017 TO 2018]") == Field("year", "2017", "2018")
    assert parse("year:2017-2018") == Field("year", "2017", "2018")
    assert parse("关键词：大气污染防治") == Field("keyword", "大气污染防治")
    assert parse("(散煤 OR 扬尘) 治理") == Seq([Or([Text("散煤"), Text("扬尘")]), Text("治理")])


def test_every_field_alias_parses():
    for alias, name in FIELDS.items():
        value = "2018" if name == "year" else "生态"
        assert parse(f"{alias}:{value}") == Field(name, value)


@pytest.mark.parametrize("query, fragment", [
    ("", "查询为空"), ("   ", "empty query"), ("()", "括号内为空"), ('"社会', "引号未闭合"), ("(大气", "括号未闭合"),
    ("大气)", "右括号"), ("foo:bar", "未知字段"), ("year:abc", "年份无效"), ("year:", "缺少值"),
    ("大气 AND", "AND 后"), ("OR 大气", "OR 前"), ("year:[2017 TO", "范围未闭合"), ("大" * 2001, "查询过长"),
    ('year:""', "年份无效"), ('year:"20"', "年份无效"), ("year:²⁰²⁰", "年份无效"),  # found by the fuzzer
])
def test_syntax_errors_are_one_sentence_with_both_hints(query, fragment):
    with pytest.raises(QuerySyntaxError, match=fragment) as info:
        parse(query)
    message = str(info.value)
    assert "\n" not in message and message.startswith("查询语法错误") and "(" in message


def test_nesting_is_bounded_by_a_syntax_error_not_a_recursion_error():
    parse("(" * MAX_DEPTH + "大气" + ")" * MAX_DEPTH)
    for query in ("(" * 250 + "大气" + ")" * 250, "NOT " * 250 + "大气"):
        with pytest.raises(QuerySyntaxError, match="嵌套过深|nested"):
            parse(query)


# ---------------------------------------------------------------- compiler

def test_words_side_by_side_are_a_soft_and_with_a_verbatim_bonus():
    plan = compile_("安置房回迁", synonyms={})
    assert isinstance(plan.root, Soft)
    terms = [n for n in plan.root.items if isinstance(n, Term)]
    assert [t.label for t in terms] == ["安置房", "回迁"]
    bonus = [n for n in plan.root.items if isinstance(n, Phrase)]
    assert bonus == [Phrase("安置房回迁", weight=2.0, optional=True)]
    assert plan.highlights == ("安置房", "回迁")
    assert compile_("大气污染防治").root.label == "大气污染防治"  # words spelling a synonym entry join
    assert compile_("安置房回迁").highlights == ("安置房", "回迁房", "回迁")  # and synonyms are forms


def test_synonyms_and_aliases_are_forms_and_can_be_turned_off():
    plan = compile_("城乡结合部", aliases={"城乡结合部": ("城中村",)})
    forms = [(f.text, f.origin) for f in plan.root.forms]
    assert ("城乡接合部", "synonym") in forms and ("城中村", "alias") in forms and forms[0] == ("城乡结合部", "typed")
    plain = compile_("城乡结合部", use_synonyms=False, use_aliases=False)
    assert {f.origin for t in plain.terms() for f in t.forms} == {"typed"}
    weights = {f.origin: f.weight for f in plan.root.forms}
    assert weights["typed"] > weights["synonym"] > weights["alias"]


def test_fields_and_exclusions_compile_to_filters():
    plan = compile_("扬尘 -工地 year:2018 section:生态 region:河南")
    assert isinstance(plan.root, All)
    kinds = [type(n).__name__ for n in plan.root.items]
    assert kinds == ["Term", "Exclude", "Filter", "Filter", "Filter"]
    assert plan.root.items[2] == Filter("year", low=2018, high=2018)
    assert "工地" not in plan.highlights  # excluded words are not highlighted


def test_a_quoted_or_full_width_year_is_a_year():
    assert parse('year:"2020"') == Field("year", "2020", phrase=True)
    assert parse("year:２０２０") == Field("year", "２０２０")


def test_or_and_a_bare_year():
    plan = compile_("安置房 OR 回迁")
    assert isinstance(plan.root, Any) and [t.label for t in plan.root.items] == ["安置房", "回迁"]
    year = compile_("2018").root
    assert YearForm(2018, 2.0) in year.forms


def test_question_words_are_optional():
    plan = compile_("如何 大气污染")
    question = [t for t in plan.terms() if t.label == "如何"]
    assert question and question[0].optional and not [t for t in plan.terms() if t.label == "大气污染"][0].optional


def test_nothing_searchable_gives_a_hint_not_an_error():
    plan = compile_("的 了 ，。")
    assert plan.root is None and "nothing searchable" in plan.hint


def test_a_pasted_paragraph_keeps_its_least_common_terms_and_says_so():
    chars = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土东南西北春夏秋冬梅兰竹菊琴棋书画诗酒茶花鸟鱼虫山川云雨"
    words = [chars[i] + chars[i + 1] for i in range(0, 54, 2)]  # 27 terms the dictionary does not know
    frequency = {w: (1000 if i % 3 == 0 else i) for i, w in enumerate(words)}
    plan = QueryCompiler(SEG, doc_frequency=lambda term, field="content": frequency.get(term, 0)).compile(
        parse(" ".join(words)))
    kept = [t.label for t in plan.terms()]
    assert len(kept) == MAX_TERMS and set(kept) == set(sorted(words, key=frequency.get)[:MAX_TERMS])
    assert plan.notes and "too many terms" in plan.notes[0]
    huge = compile_(" OR ".join(f"{a}{b}" for a in chars[:20] for b in chars[:16]))  # 320 alternatives
    assert len(list(huge.terms())) <= MAX_TERMS and huge.notes


def test_compiling_is_pure():
    compiler = QueryCompiler(SEG)
    a = compiler.compile(parse("大气 -扬尘 回迁"))
    b = compiler.compile(parse("大气 -扬尘 回迁"))
    assert a == b and a.highlights == ("大气", "回迁")
    assert isinstance(a.root.items[-1], Exclude)


def test_a_word_the_corpus_never_uses_is_looked_for_as_its_parts(seed_index):
    """停车难 is in jieba's dictionary but in no seed report: its part 停车 is
    looked for, weighted below a typed word; a word the corpus holds is not
    split, nor one that occurs verbatim under another cut (停车泊位)."""
    forms = {t.label: [(f.text, f.origin) for f in t.forms] for t in seed_index.plan("停车难 公共停车泊位 安置房").terms()}
    assert forms["停车难"] == [("停车难", "typed"), ("停车", "part")]
    assert all(origin != "part" for term in ("安置房", "公共停车泊位") for _, origin in forms.get(term, []))
    results = seed_index.search("停车难", explain=True)
    assert results.total > 0 and all("停车" in h.text for h in results.hits)
    assert results.hits[0].matched[0]["origin"] == "part"
