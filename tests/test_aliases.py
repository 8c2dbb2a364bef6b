"""Aliases (issue 20): mined from a corpus the test writes, used at query time
in both directions below the typed form, stored with the index and checked."""

import json

import pytest
from click.testing import CliRunner

from erqi_search import IndexVersionMismatch, build_index, open_index, update_index
from erqi_search.aliases import alias_classes, candidates, curated, mine
from erqi_search.cli import main

DEFINES = ("一季度工作回顾\n\n贷款市场报价利率（LPR）改革持续深化,企业融资成本稳中有降,金融服务实体经济的能力增强。\n\n"
           "二季度工作安排\n\n继续发挥贷款市场报价利率（LPR）改革效能,推动实际贷款利率稳中有降,支持小微企业发展。\n\n"
           "三季度工作\n\n推行政务服务“一网通办”（以下简称“通办”）,办事更加便捷,群众满意度持续提升。\n\n"
           "四季度工作\n\n深化“一网通办”（以下简称“通办”）,企业开办时间压缩到一天以内,营商环境持续优化。\n")
FULL_ONLY = "金融简报\n\n本月贷款市场报价利率保持不变,一年期利率与上月持平,市场预期总体平稳有序。\n"
ALIAS_ONLY = "市场观察\n\n专家认为LPR下行空间仍然存在,宽松货币政策有望延续,房贷利率或将继续下调。\n"
BRACKETS = ("附件说明\n\n具体标准（见附件）由市里另行公布,请各单位认真落实（2023）,按时报送材料（A）。\n\n"
            "执行要求\n\n执行标准（见附件）,年度目标（2023）,分类指导（A）,统筹推进各项工作。\n")


@pytest.fixture
def alias_corpus(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name, text in (("defines", DEFINES), ("full", FULL_ONLY), ("alias", ALIAS_ONLY), ("brackets", BRACKETS)):
        (src / f"{name}.txt").write_text(text, encoding="utf-8")
    build_index([src], tmp_path / "ix", jobs=1)
    return src, tmp_path / "ix"


def test_an_acronym_finds_its_full_name_and_the_reverse(alias_corpus):
    _, ix = alias_corpus
    with open_index(ix) as index:
        assert "full#001" in {h.passage_id for h in index.search("LPR", limit=20).hits}
        assert "alias#001" in {h.passage_id for h in index.search("贷款市场报价利率", limit=20).hits}
        assert "full#001" not in {h.passage_id for h in index.search("LPR", aliases=False, limit=20).hits}
        short = index.search("通办", limit=20, explain=True)
        assert any(m["origin"] == "alias" and m["form"] == "一网通办" for h in short.hits for m in h.matched)
        # the typed form outranks its alias: a passage holding LPR itself comes before one with the full name only
        ranked = [h.passage_id for h in index.search("LPR", limit=20).hits]
        assert ranked.index("alias#001") < ranked.index("full#001")


def test_one_off_brackets_are_not_mined(alias_corpus):
    _, ix = alias_corpus
    with open_index(ix) as index:
        pairs = {(a.alias, a.full) for a in index.alias_table()}
    assert pairs == {("lpr", "贷款市场报价利率"), ("通办", "一网通办")}
    assert not candidates("具体标准（见附件）,目标（2023）,分类（A）。")


def test_the_aliases_command_lists_pairs_with_a_sample(alias_corpus):
    _, ix = alias_corpus
    out = CliRunner().invoke(main, ["aliases", "--index", str(ix), "--format", "json"])
    rows = json.loads(out.stdout)
    lpr = next(r for r in rows if r["alias"] == "lpr")
    assert lpr["count"] == 2 and "（LPR）" in lpr["sample"] and lpr["source"] == "mined"
    text = CliRunner().invoke(main, ["aliases", "--index", str(ix)]).stdout
    assert text.splitlines()[0].split() == ["alias", "full", "form", "source", "reports"]


def test_the_table_survives_an_update_and_is_checked(alias_corpus):
    src, ix = alias_corpus
    (src / "more.txt").write_text("补充\n\n全面落实区域全面经济伙伴关系协定（RCEP）,用好区域全面经济伙伴关系协定（RCEP）规则。\n",
                                  encoding="utf-8")
    update_index(ix, jobs=1)
    with open_index(ix) as index:
        pairs = {(a.alias, a.full) for a in index.alias_table()}
        assert ("lpr", "贷款市场报价利率") in pairs and ("rcep", "区域全面经济伙伴关系协定") in pairs
    (src / "defines.txt").unlink()
    update_index(ix, jobs=1)
    with open_index(ix) as index:
        assert ("lpr", "贷款市场报价利率") not in {(a.alias, a.full) for a in index.alias_table()}
    manifest = json.loads((ix / "manifest.json").read_text(encoding="utf-8"))
    table = ix / manifest["generation"] / "aliases.json"
    data = json.loads(table.read_text(encoding="utf-8"))
    data["classes"]["lpr"] = ["别的东西"]
    table.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    manifest["generation_files"]["aliases.json"] = table.stat().st_size
    (ix / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(IndexVersionMismatch, match="aliases.*rebuild"):
        open_index(ix)


def test_curated_table_covers_bodies_and_indicators_in_both_directions():
    pairs = set((a, f) for a, f, _ in curated())
    assert ("wto", "世界贸易组织") in pairs and ("发改委", "国家发展和改革委员会") in pairs and ("cpi", "居民消费价格指数") in pairs
    assert not any(a == "高速" for a, _ in pairs)  # everyday short forms ("other") are left out
    classes = alias_classes([{"alias": "特区", "full": "经济特区"}], use_curated=False)
    assert classes == {"特区": ("经济特区",)}  # a generic head does not widen its full form


def test_mining_keeps_consistent_pairs_only():
    rows = [("a", "lpr", "贷款市场报价利率", "s"), ("b", "lpr", "推动贷款市场报价利率", "s"), ("c", "lpr", "别的利率", "s")]
    assert [(p["alias"], p["full"], p["count"]) for p in mine(rows)] == [("lpr", "贷款市场报价利率", 2)]
    assert mine([("a", "xyz", "某个说法", "s")]) == []  # defined once: not enough
