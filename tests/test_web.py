"""The local search page (issue: ``erqi-search serve``): the JSON API is the
command line's JSON, input from queries and reports is escaped, static files
come only from the package, readers go on while ``index update`` publishes,
and in headless Chromium a person can search, filter by year, open a passage,
see a figures chart and compare years. The search-page screenshot in docs/
is taken here."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from erqi_search import web
from erqi_search.cli import main
from erqi_search.errors import ErqiSearchError, IndexClosed
from erqi_search.indexer import build_index, update_index

from .conftest import ROOT, SEEDS

#: A report whose text looks like markup: it must show as text, never run.
MARKUP_REPORT = """二七区2019年网页标记测试

关键词:标记测试

这段文字里有<script>alert("报告")</script>和<b>粗体</b>标记,用来检查页面转义是否生效。
"""
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = ROOT / "docs" / "web-search.png"


@pytest.fixture(scope="module")
def web_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("web")
    shutil.copytree(SEEDS, root / "src")
    (root / "src" / "markup.txt").write_text(MARKUP_REPORT, encoding="utf-8")
    build_index([root / "src"], root / "ix", jobs=1)
    return root / "ix"


@pytest.fixture(scope="module")
def base(web_index):
    """The server on a free loopback port, run in a thread: its base URL."""
    server = web.Server(web_index, port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.url.rstrip("/")
    server.close()
    thread.join(10)


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def raw_get(base: str, target: str, method: str = "GET") -> tuple[int, bytes]:
    """A request with the target sent exactly as written (urllib would not keep ``..``)."""
    host, port = urllib.parse.urlsplit(base).netloc.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest(method, target, skip_accept_encoding=True)
    conn.endheaders()
    answer = conn.getresponse()
    body = answer.read()
    conn.close()
    return answer.status, body


def api(base: str, route: str, **params) -> tuple[int, object]:
    status, _, body = get(f"{base}/api/{route}?{urllib.parse.urlencode(params)}")
    return status, json.loads(body)


def cli_json(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ----------------------------------------------------------------- the API

@pytest.mark.parametrize("query, params, flags", [
    ("安置房", {}, []),
    ("安置房", {"year": "2017"}, ["--year", "2017"]),
    ("大气污染防治", {"page": "2"}, ["--page", "2"]),
    ("二七 生态", {"facets": "1", "limit": "3"}, ["--facets", "--limit", "3"]),
    ('"临时党支部" OR 安置房 -回迁', {"section": "保民生"}, ["--section", "保民生"]),
    ("安置房", {"region": "河南"}, ["--region", "河南"]),
    ("空气污染", {"synonyms": "0", "aliases": "0"}, ["--no-synonyms", "--no-aliases"]),
    ("停车位", {"explain": "1"}, ["--explain"]),
    ("的", {}, []),  # nothing searchable: a hint, no hits
])
def test_api_search_is_the_cli_json(base, web_index, query, params, flags):
    status, data = api(base, "search", q=query, **params)
    assert status == 200
    assert data == cli_json("search", query, "--index", web_index, "--format", "json", *flags)


def test_api_show_figures_trend_compare_are_the_cli_json(base, web_index):
    pid = api(base, "search", q="大气污染防治")[1]["hits"][0]["passage_id"]
    assert api(base, "show", id=pid, context=2)[1] == cli_json("show", pid, "-C", 2, "--index", web_index, "-f", "json")
    assert api(base, "figures", indicator="GDP")[1] == cli_json("figures", "GDP", "--index", web_index, "-f", "json")
    assert api(base, "figures", indicator="GDP", kind="level", year="2020")[1] == cli_json(
        "figures", "GDP", "-k", "level", "-y", 2020, "--index", web_index, "-f", "json")
    assert api(base, "trend", term="安置房", synonyms=1)[1] == cli_json(
        "trend", "安置房", "--synonyms", "--index", web_index, "-f", "json")
    assert api(base, "compare", a=2017, b=2020, limit=5)[1] == cli_json(
        "compare", 2017, 2020, "-n", 5, "--index", web_index, "-f", "json")


@pytest.mark.parametrize("query, hint", [
    ('"社会消费品', "引号未闭合 (unclosed quote)"),
    ("(大气 污染", "括号未闭合"),
    ("foo:bar", "未知字段 foo"),
])
def test_a_bad_query_is_400_with_its_hint_on_the_api_and_the_page(base, query, hint):
    status, data = api(base, "search", q=query)
    assert status == 400 and hint in data["error"] and data["error"].startswith("查询语法错误")
    status, _, body = get(f"{base}/?{urllib.parse.urlencode({'q': query})}")
    page = body.decode()
    assert status == 400 and hint in page and 'class="error"' in page


def test_bad_arguments_are_400_and_unknown_things_404(base):
    assert api(base, "search", q="安置房", year="abc")[0] == 400
    assert api(base, "search", q="安置房", page="x")[0] == 400
    assert api(base, "show", id="no_such_report#001")[0] == 404
    assert api(base, "compare", a="20", b="2020")[0] == 400
    assert get(f"{base}/no/such/page")[0] == 404
    assert get(f"{base}/show?id=nothing")[0] == 404
    assert raw_get(base, "/api/search?q=x", method="POST")[0] == 405


def test_a_query_with_script_is_shown_escaped(base):
    query = '<script>alert("x")</script>安置房'
    status, headers, body = get(f"{base}/?{urllib.parse.urlencode({'q': query})}")
    page = body.decode()
    assert status == 200
    assert "<script" not in page
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;安置房"' in page
    assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none': no script runs
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_markup_in_a_report_is_shown_as_text(base):
    for path in ("/?q=标记测试", f"/show?id={urllib.parse.quote('markup#001')}&q=标记测试"):
        page = get(base + urllib.parse.quote(path, safe="/?=&%"))[2].decode()
        assert "&lt;script&gt;alert(&#34;报告&#34;)&lt;/script&gt;" in page, path
        assert "<script" not in page and "<b>粗体" not in page


@pytest.mark.parametrize("target", [
    "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fetc%2fpasswd",
    "/static//etc/passwd", "/static/../web.py", "/static/", "/static/style.css/../../search.py",
])
def test_static_paths_outside_the_package_folder_are_refused(base, target):
    status, body = raw_get(base, target)
    assert status == 404
    assert b"root:" not in body and b"import" not in body


def test_static_files_come_from_the_package(base):
    status, headers, body = get(f"{base}/static/style.css")
    shipped = (ROOT / "erqi_search" / "web_static" / "style.css").read_bytes()
    assert status == 200 and headers["Content-Type"].startswith("text/css") and body == shipped


def test_pages_ask_for_nothing_from_another_host(base):
    """Every src/href of every page is on this server: no CDN, no web font."""
    for path in ("/", "/?q=安置房", "/show?id=markup", "/figures?indicator=GDP", "/compare?a=2017&b=2020"):
        page = get(base + urllib.parse.quote(path, safe="/?=&"))[2].decode()
        links = re.findall(r'(?:src|href|action)="([^"]*)"', page)
        assert links and all(link.startswith("/") and not link.startswith("//") for link in links), path
        assert "@import" not in page and "url(" not in page


# --------------------------------------------------- generations and load

def test_readers_go_on_while_index_update_publishes(seeded):
    """Eight readers search without a failure while an update publishes a new
    generation; new requests then see the new report (the result cache
    starts again with the generation), and the old generation is closed."""
    src, ix = seeded
    server = web.Server(ix, port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = server.url.rstrip("/")
    try:
        assert api(base, "search", q="erqiwebtest")[1]["total"] == 0  # now cached for this generation
        with server.app.generations.current() as gen:
            old = gen
        statuses, stop = [], threading.Event()

        def reader():
            deadline = time.monotonic() + 60
            while not stop.is_set() and time.monotonic() < deadline:
                statuses.append(api(base, "search", q="安置房 回迁", facets=1)[0])

        readers = [threading.Thread(target=reader) for _ in range(8)]
        for r in readers:
            r.start()
        (src / "new.txt").write_text("二七区2021年新闻\n\n全区erqiwebtest体验馆建成开放,市民踏青赏花。\n", encoding="utf-8")
        report = update_index(ix, jobs=1)
        assert report.added == ["new"]
        time.sleep(0.3)
        stop.set()
        for r in readers:
            r.join()
        assert statuses and set(statuses) == {200}
        assert api(base, "search", q="erqiwebtest")[1]["total"] == 1
        with server.app.generations.current() as gen:
            assert gen.name != old.name
        with pytest.raises(IndexClosed):
            old.index.search("安置房")
    finally:
        server.close()
        thread.join(10)


def test_the_cache_is_keyed_on_every_argument(web_index):
    app = web.App(web_index)
    try:
        one = json.loads(web.request(app, "/api/search?q=安置房&year=2017")[2])
        other = json.loads(web.request(app, "/api/search?q=安置房&year=2018")[2])
        again = json.loads(web.request(app, "/api/search?q=安置房&year=2017")[2])
        assert one == again and one != other
        assert {h["year"] for h in one["hits"]} == {2017} and {h["year"] for h in other["hits"]} == {2018}
        whole = json.loads(web.request(app, "/api/search?q=安置房")[2])
        paged = json.loads(web.request(app, "/api/search?q=安置房&limit=2&page=2")[2])
        assert [h["passage_id"] for h in paged["hits"]] == [h["passage_id"] for h in whole["hits"][2:4]]
    finally:
        app.close()


# ---------------------------------------------------------------- serving

def test_serve_says_where_and_warns_off_loopback(web_index, monkeypatch):
    class Quiet:
        def __init__(self, path, host, port, **kwargs):
            self.url = f"http://{host}:{port}/"

        def run(self):
            raise KeyboardInterrupt

        def close(self):
            pass

    monkeypatch.setattr(web, "Server", Quiet)
    said = []
    web.serve(web_index, host="127.0.0.1", port=8080, say=said.append)
    assert said[0].endswith("at http://127.0.0.1:8080/ (Ctrl-C to stop)") and not any("warning" in s for s in said)
    said.clear()
    web.serve(web_index, host="0.0.0.0", port=8080, say=said.append)
    assert [s for s in said if s.startswith("warning: listening on 0.0.0.0, not loopback")]
    assert web.is_loopback("localhost") and web.is_loopback("::1") and not web.is_loopback("0.0.0.0")


def test_a_port_in_use_is_a_one_sentence_error(web_index):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ErqiSearchError, match="choose another with --port"):
            web.Server(web_index, port=taken.getsockname()[1])


def test_the_serve_command_answers_and_stops_on_ctrl_c(web_index):
    exe = Path(sys.executable).parent / "erqi-search"
    # A shell without job control starts background jobs with SIGINT ignored, and
    # Python then installs no Ctrl-C handler: give the server the terminal's default.
    proc = subprocess.Popen([str(exe), "serve", "--index", str(web_index), "--port", "0"],
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stderr.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)", line)
        assert found, line
        assert api(found.group(1).rstrip("/"), "search", q="安置房")[1]["total"] > 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------- in a browser

@pytest.fixture(scope="module")
def page(base, tmp_path_factory):
    """A page in headless Debian Chromium driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed: apt-get install chromium (CI's .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1200, "height": 820}, locale="zh-CN")
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.asked, page.dialogs = [], []
        page.on("request", lambda r: page.asked.append(r.url))
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        yield page
        assert all(url.startswith(base + "/") for url in page.asked), page.asked  # nothing from another host
        assert not page.dialogs
        context.close()


def test_browser_type_a_query_and_see_highlighted_passages(page, base):
    page.goto(base + "/")
    page.fill("input[name=q]", "安置房")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".hit")
    assert "q=%E5%AE%89%E7%BD%AE%E6%88%BF" in page.url
    marks = page.locator(".hit .snippet mark").all_inner_texts()
    assert marks and set(marks) == {"安置房"}
    first = page.locator(".hit").first
    assert first.locator(".title").inner_text() and re.fullmatch(r"\d{4}", first.locator(".year").inner_text())
    assert first.locator(".path").count() == 1


def test_browser_click_a_year_facet_and_see_the_list_filtered(page, base):
    page.goto(base + "/?q=" + urllib.parse.quote("安置房"))
    facet = page.locator(".facet", has_text="Year").locator("li", has_text="2018")
    count = int(facet.locator(".count").inner_text())
    facet.locator("a").click()
    page.wait_for_url(re.compile(r"year=2018"))
    years = page.locator(".hit .year").all_inner_texts()
    assert years and set(years) == {"2018"} and len(years) == min(count, web.PAGE_SIZE)
    assert page.locator(".summary").inner_text().startswith(f"{count} 条结果")
    page.locator(".chip").click()  # remove the filter
    page.wait_for_url(lambda url: "year=" not in url)
    assert len(set(page.locator(".hit .year").all_inner_texts())) > 1


def test_browser_open_a_passage_with_its_neighbours(page, base):
    page.goto(base + "/?q=" + urllib.parse.quote("大气污染防治"))
    pid = page.locator(".hit .id").first.inner_text()
    page.locator(".hit .title").first.click()
    page.wait_for_selector("article.focus")
    focus = page.locator("article.focus")
    assert focus.get_attribute("id") == pid
    assert "大气污染防治" in focus.locator("mark").all_inner_texts()
    assert page.locator("article").count() >= 2  # with a neighbour
    page.get_by_text("全文 whole report").click()
    page.wait_for_selector("article")
    assert page.locator("article.focus").count() == 0 and page.locator("article").count() > 3


def test_browser_open_a_figures_chart(page, base):
    page.goto(base + "/")
    page.get_by_role("link", name="数据 Figures").click()
    page.fill("input[name=indicator]", "GDP")
    page.press("input[name=indicator]", "Enter")
    page.wait_for_selector("svg.chart")
    level = page.locator("figure", has_text="level")
    assert level.locator("circle").count() == 2  # 253亿元 (2017), 773亿元 (2020)
    assert level.locator("text").all_text_contents()[-2:] == ["2017", "2020"]
    amounts = page.locator("table.figures td.num").all_inner_texts()
    assert "253亿元" in amounts and "773亿元" in amounts
    assert page.locator(".trend svg rect.bar").count() >= 2  # the term's trend, by year


def test_browser_compare_two_years(page, base):
    page.goto(base + "/compare")
    page.select_option("select[name=a]", "2017")
    page.select_option("select[name=b]", "2020")
    page.get_by_role("button").click()
    page.wait_for_selector("table.compare")
    assert page.locator("h1").inner_text() == "2017 → 2020"
    assert page.locator("table.compare").first.locator("tbody tr").count() > 0


def test_browser_script_is_text_not_code(page, base):
    page.goto(base + "/")
    page.fill("input[name=q]", '<script>alert("x")</script>标记测试')
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".hit")
    assert page.input_value("input[name=q]") == '<script>alert("x")</script>标记测试'
    assert '<script>alert("报告")</script>' in page.locator(".hit .snippet").first.inner_text()
    assert page.locator("script").count() == 0 and not page.dialogs


def test_browser_bad_query_shows_the_hint(page, base):
    page.goto(base + "/")
    page.fill("input[name=q]", '"社会消费品')
    page.press("input[name=q]", "Enter")
    assert "引号未闭合 (unclosed quote)" in page.locator(".error").inner_text()


def test_browser_screenshot_of_the_search_page_for_the_readme(page, base):
    page.goto(base + "/?q=" + urllib.parse.quote("安置房"))
    page.wait_for_selector(".hit mark")
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
