"""The local search page, ``erqi-search serve``: a thin WSGI app over the library.

Pages: search with facets and paging (``/``), a passage with its neighbours
(``/show``), an indicator's figures and a term's trend as SVG charts
(``/figures``), two years compared (``/compare``). The same calls answer as
JSON under ``/api/`` with the command line's JSON (``/api/search?q=…`` is
``erqi-search search … --format json``). Jinja2 renders the pages with
autoescaping on; the CSS ships in ``web_static/`` and nothing is fetched from
another host; waitress serves it. Searches share a small cache of results
per index generation, and a new generation published by ``index update`` is
opened for new requests while requests in flight finish on the old one.

>>> app = App("index")
>>> status, headers, body = request(app, "/api/search?q=停车泊位&limit=1")
>>> status, headers["Content-Type"], "停车泊位" in json.loads(body)["hits"][0]["text"]
(200, 'application/json', True)
>>> request(app, "/api/search?q=(大气")[0], request(app, "/static/../../etc/passwd")[0]
(400, 404)
>>> app.close()
"""

from __future__ import annotations

import ipaddress
import json
import mimetypes
import os
import socket
import threading
from collections import OrderedDict
from contextlib import contextmanager
from http import HTTPStatus
from importlib import resources
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from .errors import ErqiSearchError, InvalidArgument, QuerySyntaxError
from .present import comparison_to_dict, highlight_spans, passage_to_dict, results_to_dict, trend_to_dict
from .search import open_index

#: Searches kept per generation. A repeated search (paging back, the API
#: polled, a shared link) then costs a look-up; docs/web.md says why it matters.
CACHE_SIZE = 512
PAGE_SIZE = 10
#: Worker threads of the server. Searches hold the GIL, so more threads add
#: no throughput, only switching: 4 answered cached searches fastest under 8
#: clients (docs/web.md) and leave room beside a slow page.
THREADS = 4
#: Bigger pages are not kept (the API allows up to 1,000 hits a page).
CACHE_MAX_HITS = 100
SECURITY_HEADERS = [
    # no scripts at all, nothing from another host, not framed elsewhere
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "
                                "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]


class NotFound(ErqiSearchError):
    """An unknown page, passage or report (HTTP 404)."""


USER_ERRORS = (QuerySyntaxError, InvalidArgument)  # HTTP 400, with the message
HTML = "text/html; charset=utf-8"


# ------------------------------------------------------------ generations

class Generation:
    """One opened index generation: the requests using it and its cache of searches."""

    def __init__(self, index, stamp, cache_size: int):
        self.index, self.stamp, self.users, self.retired = index, stamp, 0, False
        self.name = index.manifest.get("generation", "")
        self._cache: OrderedDict = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def search(self, encoded: bool = False, **args):
        """``Index.search(**args)``: its results, or with ``encoded`` the
        API's JSON bytes. Kept under every argument, in this generation only
        (a new generation starts with an empty cache), for pages of up to
        ``CACHE_MAX_HITS`` hits; the least recently used go first."""
        key = (encoded,) + tuple(sorted(args.items()))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        found = self.index.search(**args)
        if encoded:
            found = json.dumps(results_to_dict(found), ensure_ascii=False).encode()
        if self._size and int(args.get("limit", PAGE_SIZE)) <= CACHE_MAX_HITS:
            with self._lock:
                self._cache[key] = found
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return found


class Generations:
    """The index at ``path``; a request that sees a changed ``manifest.json``
    opens the new generation for itself and later requests, and the old one
    is closed when the last request using it ends.

    >>> gens = Generations("index")
    >>> with gens.current() as gen:
    ...     gen.name.startswith("gen-")
    True
    >>> gens.close()
    """

    def __init__(self, path, cache_size: int = CACHE_SIZE, say=lambda message: None):
        self.path, self.cache_size, self.say = Path(path), cache_size, say
        self._lock = threading.Lock()
        self._opening = False
        self._failed = None  # the stamp of a manifest that could not be opened
        stamp = self._stamp()
        self._current = Generation(open_index(self.path), stamp, cache_size)

    def _stamp(self):
        try:
            st = os.stat(self.path / "manifest.json")
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    @contextmanager
    def current(self):
        """The newest generation, held for the length of the ``with`` block."""
        gen = self._acquire()
        try:
            yield gen
        finally:
            with self._lock:
                gen.users -= 1
                last = gen.retired and gen.users == 0
            if last:
                gen.index.close()

    def _acquire(self) -> Generation:
        stamp = self._stamp()
        with self._lock:
            reopen = stamp not in (self._current.stamp, self._failed, None) and not self._opening
            if not reopen:
                self._current.users += 1
                return self._current
            self._opening = True  # one request opens it; the others go on with the current one
        fresh = None
        try:
            fresh = Generation(open_index(self.path), stamp, self.cache_size)
        except ErqiSearchError as err:
            self._failed = stamp
            self.say(f"warning: still serving {self._current.name}: {err}")
        with self._lock:
            self._opening = False
            old = self._current
            if fresh is not None:
                self._current, old.retired = fresh, True
            gen = self._current
            gen.users += 1
            close_old = old is not gen and old.users == 0
        if close_old:
            old.index.close()
        if fresh is not None:
            self.say(f"index updated: serving {fresh.name}")
        return gen

    def close(self) -> None:
        with self._lock:
            gen, gen.retired = self._current, True
            idle = gen.users == 0
        if idle:
            gen.index.close()


# -------------------------------------------------------------- the app

class App:
    """The WSGI application over the index at ``path``. Every route is a
    method ``route(gen, params)`` returning ``(status, content_type, body)``;
    ``api_*`` routes answer JSON, the others HTML."""

    def __init__(self, path, cache_size: int = CACHE_SIZE, say=lambda message: None):
        from jinja2 import Environment, PackageLoader, StrictUndefined

        self.generations = Generations(path, cache_size, say)
        self.env = Environment(loader=PackageLoader(__package__, "web_templates"), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals["url"] = url
        self.env.filters["marked"] = marked
        folder = resources.files(__package__) / "web_static"
        self.static = {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()}
        self.routes = {"/": self.page_search, "/show": self.page_show, "/figures": self.page_figures,
                       "/compare": self.page_compare, "/api/search": self.api_search, "/api/show": self.api_show,
                       "/api/figures": self.api_figures, "/api/trend": self.api_trend,
                       "/api/compare": self.api_compare}

    def close(self) -> None:
        self.generations.close()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        is_api = path.startswith("/api/")
        try:
            if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
                status, ctype, body = 405, "text/plain; charset=utf-8", b"only GET and HEAD"
            elif path.startswith("/static/"):
                status, ctype, body = self.static_file(path[len("/static/"):])
            elif path not in self.routes:
                raise NotFound(f"no page {path}")
            else:
                with self.generations.current() as gen:
                    status, ctype, body = self.routes[path](gen, params)
        except ErqiSearchError as err:  # the user's to fix (400, 404), or a damaged index (500)
            status = 404 if isinstance(err, NotFound) else 400 if isinstance(err, USER_ERRORS) else 500
            if is_api:
                ctype, body = "application/json", as_json({"error": str(err)})
            else:
                ctype, body = HTML, self.render("error.html", params, error=str(err))
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))] + SECURITY_HEADERS
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def render(self, template: str, params: dict, **values) -> bytes:
        values.setdefault("q", params.get("q", ""))
        return self.env.get_template(template).render(params=params, **values).encode()

    def static_file(self, name: str):
        """Only the files shipped in ``web_static/``, by exact name: no path is ever joined."""
        if name not in self.static:
            raise NotFound(f"no static file {name}")
        return 200, mimetypes.guess_type(name)[0] or "application/octet-stream", self.static[name]

    # -- JSON, as the command line prints it

    def api_search(self, gen, p):
        args = search_args(p, limit=p.get("limit", PAGE_SIZE), facets=truthy(p.get("facets")))
        return 200, "application/json", gen.search(encoded=True, **args)

    def api_show(self, gen, p):
        shown, _ = neighbours(gen.index, p.get("id", ""), number(p, "context", 1, 0, 20))
        return 200, "application/json", as_json([passage_to_dict(x) for x in shown])

    def api_figures(self, gen, p):
        if not p.get("indicator", "").strip():
            raise InvalidArgument("give an indicator: /api/figures?indicator=GDP")
        rows = gen.index.figures(p["indicator"], year=p.get("year") or None, kind=p.get("kind") or None,
                                 region=p.get("region") or None)
        return 200, "application/json", as_json([f.as_dict() for f in rows])

    def api_trend(self, gen, p):
        t = gen.index.trend(p.get("term", ""), synonyms=truthy(p.get("synonyms")))
        return 200, "application/json", as_json(trend_to_dict(t))

    def api_compare(self, gen, p):
        c = gen.index.compare(p.get("a"), p.get("b"), limit=number(p, "limit", 10, 1, 1000))
        return 200, "application/json", as_json(comparison_to_dict(c))

    # -- pages

    def page_search(self, gen, p):
        if not p.get("q", "").strip():
            return 200, HTML, self.render("search.html", p, results=None)
        results = gen.search(**search_args(p, limit=PAGE_SIZE, facets=True))
        pages = max(1, -(-results.total // PAGE_SIZE))
        return 200, HTML, self.render(
            "search.html", p, results=results, facets=facet_links(results.facets, p), pages=pages,
            first=(results.page - 1) * PAGE_SIZE + 1, here={k: p.get(k) for k in ("q", "year", "section", "region")})

    def page_show(self, gen, p):
        context = number(p, "context", 1, 0, 20)
        shown, focus = neighbours(gen.index, p.get("id", ""), context)
        terms = ()
        if p.get("q"):
            try:
                terms = gen.index.plan(p["q"]).highlights
            except ErqiSearchError:
                pass
        return 200, HTML, self.render(
            "show.html", p, shown=shown, focus=focus, spans=lambda text: highlight_spans(text, terms), context=context)

    def page_figures(self, gen, p):
        term, region = p.get("indicator", "").strip(), p.get("region", "")
        rows, regions, charts, trend = [], [], [], None
        if term:
            every = gen.index.figures(term, kind=p.get("kind") or None)
            regions = sorted({f.region for f in every if f.region})
            rows = [f for f in every if not region or f.region == region]
            series: dict[tuple[str, str], list] = {}
            for f in rows:
                series.setdefault((f.kind, f.unit), []).append(f)
            # a line joins the years of one place; figures of several regions stay dots
            charts = [(kind, unit, chart([(str(f.year or "----"), f.value, f"{f.year} {f.region} {f.amount()} "
                                           f"{f.period} {f.indicator}") for f in found],
                                         line=len({f.region for f in found}) <= 1))
                      for (kind, unit), found in series.items()]
            try:
                trend = gen.index.trend(term, synonyms=not truthy(p.get("exact")))
            except InvalidArgument:
                trend = None
        trend_chart = trend and chart([(str(x.year), round(x.per_1000, 1), f"{x.year}: {x.passages} / {x.total}")
                                       for x in trend.points], bars=True)
        return 200, HTML, self.render("figures.html", p, indicator=term, rows=rows, regions=regions, charts=charts,
                                      trend=trend, trend_chart=trend_chart, current=gen.index.figures_current)

    def page_compare(self, gen, p):
        years = sorted(gen.index.engine.year_totals())
        comparison = None
        if p.get("a") and p.get("b"):
            comparison = gen.index.compare(p["a"], p["b"], limit=number(p, "limit", 15, 1, 100))
        return 200, HTML, self.render("compare.html", p, years=years, comparison=comparison)


# --------------------------------------------------------------- helpers

def search_args(p: dict, **more) -> dict:
    """The ``Index.search`` arguments of a request's parameters, as the
    command line's options give them (``synonyms=0`` is ``--no-synonyms``).

    >>> search_args({"q": "GDP", "year": "2020", "synonyms": "0"})
    {'query': 'GDP', 'year': '2020', 'section': None, 'region': None, 'page': 1, 'synonyms': False}
    """
    args = dict(query=p.get("q", ""), year=p.get("year") or None, section=p.get("section") or None,
                region=p.get("region") or None, page=p.get("page", 1), **more)
    for name in ("synonyms", "aliases"):  # given only when turned off, as the flags are
        if str(p.get(name, "")).lower() in ("0", "false", "no", "off"):
            args[name] = False
    if truthy(p.get("explain")):
        args["explain"] = True
    return args


def number(p: dict, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter, bounded.

    >>> number({"context": "3"}, "context", 1, 0, 20), number({}, "context", 1, 0, 20)
    (3, 1)
    """
    try:
        return max(low, min(int(p.get(name, default)), high))
    except ValueError:
        raise InvalidArgument(f"{name} must be a whole number, not {p[name]!r}") from None


def truthy(value) -> bool:
    return str(value or "").lower() in ("1", "true", "yes", "on")


def as_json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def neighbours(index, ident: str, context: int):
    """:meth:`Index.neighbours`; a 404 when ``ident`` names nothing."""
    shown, focus = index.neighbours(ident, context)
    if not shown:
        raise NotFound(f"no passage or report with id {ident!r}; ids are shown by search")
    return shown, focus


def url(path: str, **params) -> str:
    """A link with the non-empty parameters.

    >>> url("/", q="大气 污染", year=2017, page=None)
    '/?q=%E5%A4%A7%E6%B0%94+%E6%B1%A1%E6%9F%93&year=2017'
    """
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def marked(text: str, spans) -> list[tuple[str, bool]]:
    """``text`` cut into ``(piece, highlighted)`` for a template to wrap in ``<mark>``.

    >>> marked("大气污染防治攻坚", [(0, 6)])
    [('大气污染防治', True), ('攻坚', False)]
    """
    parts, last = [], 0
    for start, end in spans:
        parts += [(text[last:start], False), (text[start:end], True)]
        last = end
    parts.append((text[last:], False))
    return [part for part in parts if part[0]]


FACET_LIMIT = 12  # sections and regions shown (every year is)
FACET_TITLES = {"year": "年份 Year", "section": "栏目 Section", "region": "地区 Region"}


def facet_links(facets: dict, p: dict) -> list[tuple[str, str, list[dict]]]:
    """Each facet's name, title, and values with counts and a link that
    filters by it (or, for the active filter, removes it): every year, newest
    first, and the largest sections and regions; a facet with no known value
    is left out.

    >>> facet_links({"year": {2018: 3, None: 1}}, {"q": "生态"})[0][2][0]
    {'label': '2018', 'count': 3, 'href': '/?q=%E7%94%9F%E6%80%81&year=2018', 'active': False}
    """
    out = []
    for name, counts in facets.items():
        known = [(k, n) for k, n in counts.items() if k not in (None, "(none)")]
        if not known or name not in FACET_TITLES:
            continue
        if name == "year":
            known.sort(reverse=True)
        else:
            known = sorted(known, key=lambda kv: -kv[1])[:FACET_LIMIT]
        items = []
        for key, n in known:
            active = p.get(name) == str(key)
            here = {k: p.get(k) for k in ("q", "year", "section", "region")}
            here[name] = None if active else key
            items.append({"label": str(key), "count": n, "href": url("/", **here), "active": active})
        out.append((name, FACET_TITLES[name], items))
    return out


def chart(points: list[tuple[str, float, str]], bars: bool = False, line: bool = True) -> dict:
    """The geometry of a small SVG chart of ``(x label, value, tooltip)``
    points in x order; several points may share a label (figures of one
    year). Bars, or dots joined (with ``line``) through each label's first
    point. Wider for many labels, naming every label that fits.

    >>> c = chart([("2017", 253.0, ""), ("2020", 773.0, "")])
    >>> [m["x"] for m in c["marks"]], c["ticks"][-1][1], [text for _, text in c["labels"]]
    ([179.0, 425.0], '773', ['2017', '2020'])
    """
    labels = list(dict.fromkeys(label for label, _, _ in points))
    values = [v for _, v, _ in points]
    low, high = min(0.0, *values), max(0.0, *values)
    high = high if high > low else low + 1
    left, right, top, bottom = 56, 12, 14, 26
    width, height = min(max(560, 24 * len(labels) + left + right), 1100), 200
    step = (width - left - right) / max(len(labels), 1)
    xs = {label: round(left + step * (i + 0.5), 1) for i, label in enumerate(labels)}
    every = -(-36 // step)  # a label needs about 36 pixels

    def y(v):
        return round(top + (high - v) / (high - low) * (height - top - bottom), 1)

    marks = [{"x": xs[label], "y": y(v), "tip": tip, "w": round(step * 0.6, 1), "h": round(abs(y(0) - y(v)), 1),
              "top": min(y(v), y(0))} for label, v, tip in points]
    firsts = {}
    for (label, _, _), m in zip(points, marks):
        firsts.setdefault(label, m)
    return {"width": width, "height": height, "left": left, "right": width - right, "zero": y(0), "bars": bars,
            "marks": marks, "line": " ".join(f"{m['x']},{m['y']}" for m in firsts.values()) if line else "",
            "ticks": [(y(v), f"{v:g}") for v in dict.fromkeys((low, (low + high) / 2, high))],
            "labels": [(x, label) for i, (label, x) in enumerate(xs.items()) if i % every == 0], "base": height - 8}


# ---------------------------------------------------------------- serving

def request(app, target: str) -> tuple[int, dict, bytes]:
    """``GET target`` through ``app`` in-process, without a server: status, headers, body."""
    from wsgiref.util import setup_testing_defaults

    path, _, query = target.partition("?")
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET", "wsgi.input": BytesIO()}
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            found = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return bool(found) and all(ipaddress.ip_address(a[4][0].split("%")[0]).is_loopback for a in found)


class Server:
    """A waitress server over an :class:`App` of the index at ``path``, not
    yet running: :meth:`run` serves until :meth:`close` (called from another
    thread, or Ctrl-C); ``port=0`` takes a free port, which ``url`` shows.

    >>> server = Server("index", port=0)
    >>> server.url.startswith("http://127.0.0.1:")
    True
    >>> server.close()
    """

    def __init__(self, path, host: str = "127.0.0.1", port: int = 0, *, cache_size: int = CACHE_SIZE,
                 threads: int = THREADS, say=lambda message: None):
        import logging

        from waitress import create_server

        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a queue is normal under load
        self.app = App(path, cache_size, say)
        try:
            self.server = create_server(self.app, host=host, port=port, threads=threads, ident="erqi-search")
        except OSError as err:
            self.app.close()
            raise ErqiSearchError(f"cannot listen on {host} port {port}: {err.strerror or err}; "
                                  "choose another with --port") from None
        self.closed = False
        self.port = self.server.effective_port
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def run(self) -> None:
        try:
            self.server.run()
        except OSError:
            if not self.closed:  # close() from another thread pulls the sockets from under select()
                raise

    def close(self) -> None:
        self.closed = True
        self.server.close()
        self.app.close()


def serve(path, host: str = "127.0.0.1", port: int = 8080, say=print, *, cache_size: int = CACHE_SIZE,
          threads: int = THREADS) -> None:
    """Serve the search page for the index at ``path`` until Ctrl-C, saying
    where (and warning when the page is reachable from other machines)."""
    server = Server(path, host, port, cache_size=cache_size, threads=threads, say=say)
    say(f"erqi-search: serving {path} at {server.url} (Ctrl-C to stop)")
    if not is_loopback(host):
        say(f"warning: listening on {host}, not loopback: anyone who can reach this machine can read the index "
            "(there is no login)")
    try:
        server.run()  # waitress ends its loop on Ctrl-C
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        say("erqi-search: stopped")
