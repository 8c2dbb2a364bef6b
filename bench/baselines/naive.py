"""The naive baseline: jieba's stock ``ChineseAnalyzer`` on Whoosh defaults,
over blank-line paragraphs, queried through Whoosh's default query parser.

It is what a developer gets in ten minutes; bench/relevance.py shows it
beside erqi-search.
"""

from __future__ import annotations

import re
from pathlib import Path


def build(sources, path: Path) -> int:
    """Index every blank-line paragraph of the sources; return how many."""
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index
    from whoosh.fields import NUMERIC, STORED, TEXT, Schema

    from erqi_search.ingest import decode_bytes, find_report_files, infer_year, parse_text

    schema = Schema(content=TEXT(analyzer=ChineseAnalyzer(), stored=True), year=NUMERIC(stored=True), doc=STORED)
    path.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(path), schema)
    writer = ix.writer()
    count = 0
    for file, _ in find_report_files(sources):
        text = decode_bytes(file.read_bytes())
        year = infer_year("", parse_text(text))
        for para in re.split(r"\n\s*\n", text):
            if para.strip():
                writer.add_document(content=para.strip(), year=year or 0, doc=file.stem)
                count += 1
    writer.commit()
    return count


def search(path: Path, query: str, limit: int = 10) -> list[dict]:
    """Hits as ``{"text", "year"}`` dicts, best first."""
    from whoosh import index
    from whoosh.qparser import QueryParser

    ix = index.open_dir(str(path))
    with ix.searcher() as searcher:
        q = QueryParser("content", ix.schema).parse(query)
        return [{"text": h["content"], "year": h["year"]} for h in searcher.search(q, limit=limit)]
