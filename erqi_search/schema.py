"""The fields of a passage, for every engine, and their Whoosh schema.

Searchable fields and what they hold (tokens from
:func:`erqi_search.analysis.analyze_passages`):

========================  =========  ===============================================
field                     kind       tokens
========================  =========  ===============================================
``content``               words      search-mode words of the passage, stop words out
``grams``                 grams      bigrams of adjacent atoms, with positions
``title``                 words      the report title's words
``section``               keyword    each heading of the section path, normalised
``section_words``         words      the headings' words
``keywords``              keyword    the 关键词 above the passage
``key_terms``             keyword    TF-IDF terms of the passage
========================  =========  ===============================================

Beside them each passage has columns (year, region, top-level section,
report) and stored fields (the passage and its report's metadata).

>>> [name for name, kind in FIELDS.items() if kind == "words"]
['content', 'title', 'section_words']
"""

from __future__ import annotations

#: Searchable field -> kind (``words``, ``grams`` or ``keyword``), in a fixed order.
FIELDS = {
    "content": "words",
    "grams": "grams",
    "title": "words",
    "section": "keyword",
    "section_words": "words",
    "keywords": "keyword",
    "key_terms": "keyword",
}
#: Fields whose words may be a query word (used to build the query dictionary).
VOCABULARY_FIELDS = ("content", "title", "section_words")


def build_schema():
    """The Whoosh schema an embedded generation records in its table of
    contents (Whoosh pickles it there): the same fields, with the analyzer at
    its stable import path ``erqi_search.analysis.ErqiAnalyzer``."""
    from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

    from .analysis import ErqiAnalyzer

    words = ErqiAnalyzer("words")
    return Schema(
        doc_id=ID(stored=True),
        passage_id=ID(stored=True, unique=True),
        ordinal=STORED,
        title=TEXT(analyzer=words, phrase=False, stored=True),
        year=NUMERIC(int, bits=16, stored=True, sortable=True, signed=False),
        date=STORED,
        region=ID(stored=True),
        section=KEYWORD(stored=True, scorable=True),
        section_words=TEXT(analyzer=words, phrase=False),
        section_path=STORED,
        top_section=ID(sortable=True),
        keywords=KEYWORD(stored=True, scorable=True),
        key_terms=KEYWORD(stored=True, scorable=True),
        content=TEXT(analyzer=words, phrase=False, stored=True),
        grams=TEXT(analyzer=ErqiAnalyzer("grams"), phrase=True),
        source=STORED,
        span=STORED,
    )
