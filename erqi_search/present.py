"""Highlights, snippets and output formats (text with colour, HTML, JSON).

Highlights are found on the normalised text, so a traditional-form or
full-width occurrence is marked too; offsets point into the original.

>>> text = "全区空气质量综合指数持续改善,PM2.5年累积浓度84微克。"
>>> spans = highlight_spans(text, ["空气质量", "pm2.5"])
>>> [text[s:e] for s, e in spans]
['空气质量', 'PM2.5']
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from bisect import bisect_left, bisect_right

from .text import normalize

SNIPPET_MIN = 80
SNIPPET_MAX = 160
_BOUNDARY = re.compile(r"[。！？!?；;\n]|[，,、：:]")


def highlight_spans(text: str, terms) -> list[tuple[int, int]]:
    """``(start, end)`` of every occurrence of every (normalised) term, merged."""
    return _spans(*normalize(text), terms)


def _spans(norm: str, origin: list[int] | None, terms) -> list[tuple[int, int]]:
    found = []
    for term in terms:
        if not term:
            continue
        start = norm.find(term)
        while start >= 0:
            end = start + len(term)
            found.append((start, end) if origin is None else (origin[start], origin[end - 1] + 1))
            start = norm.find(term, start + 1)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(found):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _cut_points(text: str) -> list[int]:
    """Offsets where a snippet may start or end: after sentence and clause marks."""
    return sorted({0, len(text), *(m.end() for m in _BOUNDARY.finditer(text))})


def snippet_window(text: str, spans: list[tuple[int, int]], norm: str | None = None) -> tuple[int, int]:
    """The best window of about SNIPPET_MIN-SNIPPET_MAX characters: the one
    covering the most distinct matched terms, then the most matches, cut at
    sentence or clause boundaries where possible. Windows start at the text's
    start or at the boundary before a match. ``norm`` is the normalised
    text, when the caller has it.

    >>> snippet_window("甲。" * 10, [(4, 5)])
    (0, 20)
    """
    if len(text) <= SNIPPET_MAX:
        return 0, len(text)
    points = _cut_points(text)
    norm = normalize(text)[0] if norm is None else norm
    starts = sorted({0} | {points[max(0, bisect_right(points, s) - 1)] for s, _ in spans})
    span_starts = [s for s, _ in spans]
    best, best_key = (0, min(len(text), SNIPPET_MAX)), None
    for start in starts:
        i = bisect_right(points, start + SNIPPET_MAX) - 1
        end = points[i] if points[i] - start >= SNIPPET_MIN else min(len(text), start + SNIPPET_MAX)
        inside = [(s, e) for s, e in spans[bisect_left(span_starts, start) : bisect_left(span_starts, end)] if e <= end]
        key = (len({norm[s:e] for s, e in inside}), len(inside), -start)
        if best_key is None or key > best_key:
            best, best_key = (start, end), key
    return best


def make_snippet(text: str, spans: list[tuple[int, int]], norm: str | None = None) -> tuple[str, list[tuple[int, int]]]:
    """The snippet text (``…`` where cut) and the highlight spans inside it."""
    start, end = snippet_window(text, spans, norm)
    body = text[start:end].strip("\n")
    lead = len(text[start:end]) - len(text[start:end].lstrip("\n"))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = start + lead - len(prefix)
    inner = [(max(s, start + lead) - shift, min(e, start + lead + len(body)) - shift)
             for s, e in spans if e > start + lead and s < start + lead + len(body)]
    return prefix + body.replace("\n", " ") + suffix, inner


def highlighted(text: str, terms) -> tuple[list[tuple[int, int]], str, list[tuple[int, int]]]:
    """Highlights of ``terms`` in ``text``, the snippet and its highlights, normalising once."""
    norm, origin = normalize(text)
    spans = _spans(norm, origin, terms)
    snippet, inner = make_snippet(text, spans, norm if origin is None else None)
    return spans, snippet, inner


# ------------------------------------------------------------------ tables

def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: two for wide (East Asian) characters.

    >>> display_width("GDP"), display_width("地区生产总值"), display_width("ＧＤＰ")
    (3, 12, 6)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (left-aligned,
    or right-aligned with ``right``).

    >>> pad("赤字率", 8) + "|", pad("9%", 5, right=True) + "|"
    ('赤字率  |', '   9%|')
    """
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def render_table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """Rows aligned in columns by display width, under a header row.

    >>> print(render_table(["年份", "指标"], [["2017", "地区生产总值"], ["2020", "GDP"]]))
    年份  指标
    2017  地区生产总值
    2020  GDP
    """
    widths = [max(display_width(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines = []
    for row in [header] + rows:
        cells = [pad(cell, widths[i], i in right) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# ------------------------------------------------------------------ formats

BOLD_RED = "\x1b[1;31m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RESET = "\x1b[0m"


def _marked(text: str, spans, before: str, after: str, escape=lambda s: s) -> str:
    out, last = [], 0
    for s, e in spans:
        out.append(escape(text[last:s]))
        out.append(before + escape(text[s:e]) + after)
        last = e
    out.append(escape(text[last:]))
    return "".join(out)


def hit_to_dict(hit) -> dict:
    """The JSON form of a hit (the stable contract in docs/usage.md)."""
    return {
        "doc_id": hit.doc_id,
        "passage_id": hit.passage_id,
        "title": hit.title,
        "year": hit.year,
        "date": hit.date,
        "section": hit.section,
        "section_path": list(hit.section_path),
        "keywords": list(hit.keywords),
        "text": hit.text,
        "snippet": hit.snippet,
        "highlights": [list(h) for h in hit.highlights],
        "score": round(hit.score, 4),
        **({"explain": list(hit.matched)} if hit.matched else {}),
    }


def passage_to_dict(p) -> dict:
    """A stored passage as ``show --format json`` prints it."""
    return {"doc_id": p.doc_id, "passage_id": p.passage_id, "title": p.title, "year": p.year, "date": p.date,
            "section_path": list(p.section_path), "keywords": list(p.keywords), "key_terms": list(p.key_terms),
            "text": p.text}


def trend_to_dict(t) -> dict:
    """A :class:`~erqi_search.model.Trend` as ``trend --format json`` prints it."""
    return {"term": t.term, "forms": list(t.forms), "years": [
        {"year": x.year, "passages": x.passages, "of": x.total, "per_1000": round(x.per_1000, 2)} for x in t.points]}


def comparison_to_dict(c) -> dict:
    """A :class:`~erqi_search.model.Comparison` as ``compare --format json`` prints it."""
    return {label: [{"term": x.term, str(c.year_a): round(x.rate_a, 2), str(c.year_b): round(x.rate_b, 2)}
                    for x in changes] for label, changes in (("rose", c.rose), ("fell", c.fell))}


def results_to_dict(results) -> dict:
    """The JSON form of a page of results (the contract in docs/usage.md):
    ``total`` passages match, ``total_all_terms`` of them match every term."""
    data = {
        "query": results.query,
        "total": results.total,
        "total_all_terms": results.total_all_terms,
        "page": results.page,
        "limit": results.limit,
        "hits": [hit_to_dict(h) for h in results.hits],
    }
    if results.facets is not None:
        data["facets"] = {name: {("(none)" if k is None else str(k)): v for k, v in counts.items()}
                          for name, counts in results.facets.items()}
    if results.hint:
        data["hint"] = results.hint
    if results.notes:
        data["notes"] = list(results.notes)
    if results.partial:
        data["partial"] = True
    return data


def render_json(results) -> str:
    """One JSON object: see :func:`results_to_dict`."""
    return json.dumps(results_to_dict(results), ensure_ascii=False, indent=2)


def render_text(results, color: bool = False) -> str:
    """One block per hit: rank, title, year, section path (dim), highlighted snippet."""
    blocks = []
    first = (results.page - 1) * results.limit
    for rank, hit in enumerate(results.hits, start=first + 1):
        year = hit.year if hit.year is not None else "----"
        head = f"{rank}. {hit.title} ({year})  [{hit.passage_id}]"
        path = " › ".join(hit.section_path)
        if color:
            head = BOLD + head + RESET
            path = DIM + path + RESET if path else ""
            body = _marked(hit.snippet, hit.snippet_highlights, BOLD_RED, RESET)
        else:
            body = _marked(hit.snippet, hit.snippet_highlights, "[", "]")
        why = "   matched: " + "; ".join(
            f"{m['form']} [{m['origin']} ×{m['weight']:g}: {', '.join(m['fields'])}]" for m in hit.matched
        ) if hit.matched else ""
        blocks.append("\n".join(x for x in (head, "   " + path if path else "", "   " + body, why) if x))
    if results.facets is not None:
        blocks.append(render_facets(results.facets))
    return "\n\n".join(blocks)


def render_facets(facets: dict) -> str:
    lines = []
    for name, counts in facets.items():
        lines.append(f"{name}: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.6}h1{font-size:1.3rem}.hit{margin:1.2rem 0;padding-bottom:.8rem;
border-bottom:1px solid #eee}.meta{color:#666;font-size:.9rem}.path{color:#888;font-size:.85rem}
mark{background:#ffe58f;padding:0 1px}.facets{font-size:.9rem;color:#444}"""


def render_html(results) -> str:
    """A self-contained page (inline CSS) with the query, facets and hits."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>erqi-search: {esc(results.query)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(results.query)}</h1>",
        f'<p class="meta">{results.total} 条结果 (results), 第 {results.page} 页 (page)</p>',
    ]
    if results.hint:
        parts.append(f'<p class="meta">{esc(results.hint)}</p>')
    if results.facets is not None:
        parts.append('<div class="facets">')
        for name, counts in results.facets.items():
            items = ", ".join(f"{esc(str(k))} ({v})" for k, v in counts.items())
            parts.append(f"<p><b>{esc(name)}</b>: {items}</p>")
        parts.append("</div>")
    for hit in results.hits:
        year = hit.year if hit.year is not None else ""
        parts.append('<div class="hit">')
        parts.append(f'<div class="meta"><b>{esc(hit.title)}</b> {year} · {esc(hit.passage_id)}</div>')
        if hit.section_path:
            parts.append(f'<div class="path">{esc(" › ".join(hit.section_path))}</div>')
        parts.append(f"<p>{_marked(hit.snippet, hit.snippet_highlights, '<mark>', '</mark>', esc)}</p>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
