"""Figures and trends (issue 10), on the seeds."""

import csv
import io
import json

from click.testing import CliRunner

from erqi_search.cli import main
from erqi_search.figures import extract_figures


def rows(index, indicator):
    return [(f.year, f.value, f.unit, f.kind) for f in index.figures(indicator)]


def test_gdp_by_year(seed_index):
    found = rows(seed_index, "地区生产总值")
    assert (2017, 253.0, "亿元", "level") in found
    assert (2017, 9.0, "%", "growth") in found
    assert (2020, 773.0, "亿元", "level") in found
    assert [f.year for f in seed_index.figures("地区生产总值")] == sorted(f.year for f in seed_index.figures("地区生产总值"))
    nine = next(f for f in seed_index.figures("地区生产总值") if f.value == 9.0)
    assert nine.approx == "左右" and nine.passage_id.startswith("003_")


def test_gdp_synonym_gives_the_same_rows(seed_index):
    assert rows(seed_index, "GDP") == rows(seed_index, "地区生产总值")


def test_good_air_days(seed_index):
    found = rows(seed_index, "优良天数")
    assert (2018, 165.0, "天", "level") in found and (2020, 234.0, "天", "level") in found


def test_extraction_handles_the_written_forms():
    assert [(f.indicator, f.value, f.unit) for f in extract_figures("地区生产总值完成**253亿元**")] == [
        ("地区生产总值", 253.0, "亿元")]
    grow = extract_figures("地区生产总值增长9%左右")[0]
    assert (grow.kind, grow.approx) == ("growth", "左右")
    jobs = extract_figures("实现城镇新增就业2.1万余人")[0]
    assert (jobs.indicator, jobs.value, jobs.unit, jobs.approx, jobs.kind) == ("城镇新增就业", 2.1, "万人", "余", "count")
    assert extract_figures("全区地区生产总值预计完成773亿元")[0].indicator == "地区生产总值"
    assert extract_figures("一般公共预算收入完成５５．２亿元")[0].value == 55.2  # full-width digits
    period = extract_figures("截至6月23日,共完成优良天气66天")[0]
    assert period.period == "截至6月23日" and period.value == 66.0
    assert extract_figures("2020年是收官之年") == []  # a year is not a figure


def test_figures_command_formats(seed_index_path):
    runner = CliRunner()
    text = runner.invoke(main, ["figures", "优良天数", "--index", str(seed_index_path)])
    assert text.exit_code == 0 and "2018            165天  level" in text.stdout
    data = json.loads(runner.invoke(main, ["figures", "GDP", "--index", str(seed_index_path), "-f", "json"]).stdout)
    assert {(d["year"], d["value"]) for d in data} >= {(2017, 253.0), (2020, 773.0)}
    table = list(csv.DictReader(io.StringIO(
        runner.invoke(main, ["figures", "地区生产总值", "--index", str(seed_index_path), "-f", "csv"]).stdout)))
    assert {"indicator", "value", "unit", "kind", "period", "year", "passage_id"} <= set(table[0])


def test_trend_counts_per_year(seed_index, seed_index_path):
    trend = seed_index.trend("安置房")
    years = {y: (n, rate) for y, n, rate in trend}
    assert years[2017][0] >= 2 and years[2018][0] >= 1
    assert all(0 <= rate <= 1000 for _, rate in years.values())
    out = CliRunner().invoke(main, ["trend", "安置房", "--index", str(seed_index_path)]).stdout
    assert "█" in out and "2017" in out


def test_compare_years(seed_index, seed_index_path):
    result = seed_index.compare(2017, 2020, limit=5)
    assert result["rose"] and result["fell"]
    assert all(b > a for _, a, b in result["rose"]) and all(b < a for _, a, b in result["fell"])
    assert "大气污染防治" in [t for t, _, _ in seed_index.compare(2017, 2020, limit=50)["fell"]]
    out = CliRunner().invoke(main, ["compare", "2017", "2020", "--index", str(seed_index_path)]).stdout
    assert out.startswith("rose:") and "fell:" in out


def test_figures_follow_updates(tmp_path):
    import shutil

    from erqi_search import build_index, open_index, update_index

    from .conftest import SEEDS

    src = tmp_path / "src"
    shutil.copytree(SEEDS, src)
    build_index([src], tmp_path / "ix", jobs=1)
    (src / "004_9d785b2161a49b6a.txt").unlink()
    (src / "new.txt").write_text("二七区2021年工作\n\n全年地区生产总值完成800亿元,优良天数达到250天。\n", encoding="utf-8")
    update_index(tmp_path / "ix", jobs=1)
    with open_index(tmp_path / "ix") as index:
        gdp = {(f.year, f.value) for f in index.figures("地区生产总值")}
        assert (2020, 773.0) not in gdp and (2021, 800.0) in gdp and (2017, 253.0) in gdp
