"""Every constant that shapes the ranking, with its reason. A leaf module.

The score of a passage for a :class:`~erqi_search.plan.Term` is the best of
its forms; a form scores BM25 in each field it occurs in, times the field's
weight, plus its exact character sequence (``grams``) times
:data:`GRAMS_WEIGHT`, all times the form's weight (1 for the typed form).
Terms side by side add up, and the passages matching more of them rank
first (coordination). Tuned with ``bench/relevance.py`` on the dev queries
and checked on the held-out ones (docs/performance.md).

>>> round(bm25(idf(10, 1000), tf=2, length=50, avg_length=40), 4)
7.1726
"""

from __future__ import annotations

import math

#: BM25 saturation and length normalisation. B is lower than the usual 0.75
#: because passages are already short and similar in length.
K1 = 1.2
B = 0.6

#: Weight of a term in each field, relative to the passage text (``content``).
#: A report's own 关键词 is the strongest evidence of topic; a heading next;
#: the title is shared by every passage of a report, so it only breaks ties.
FIELD_WEIGHTS = {
    "content": 1.0,
    "keywords": 3.0,
    "section": 2.0,
    "section_words": 1.0,
    "title": 0.5,
    "key_terms": 1.0,
}
#: The exact character sequence of a term (found whatever the segmentation).
GRAMS_WEIGHT = 0.8
#: A synonym or variant counts a little less than the word typed; an alias
#: (an acronym or a short form) less again: it may be ambiguous.
SYNONYM_WEIGHT = 0.6
ALIAS_WEIGHT = 0.5
#: A word the corpus never uses (停车难) is looked for as its known parts
#: (停车), which say less than the word would.
PART_WEIGHT = 0.5
#: A fragment of several words found verbatim earns this much over its words.
PHRASE_BONUS = 2.0
#: A quoted phrase's own score, as one BM25 term on the character sequence.
QUOTED_PHRASE_WEIGHT = 1.0
#: Added per matched term of a soft AND (divided by the number of terms), so
#: the score shows the coordination; the order puts the number of matched
#: terms first in any case (see :func:`erqi_search.plan` and the evaluator).
COORD_BONUS = 100.0
#: A four-digit year typed as a word favours passages of that year.
YEAR_TERM_BONUS = 2.0
#: Question words (如何, 哪些) score this fraction of a term and never decide
#: whether a passage matches.
OPTIONAL_WEIGHT = 0.2

#: Scores are rounded to this many decimals before ordering, so that sums
#: taken in another order (another engine, another split of the work) order
#: the same; ties then go to the newer year, then the passage id.
SCORE_DECIMALS = 6

#: At most this many distinct terms and this many leaves in one query: past
#: them the most frequent terms are dropped, and the user is told.
MAX_TERMS = 16
MAX_LEAVES = 64
#: Parentheses nested deeper than this are a syntax error.
MAX_DEPTH = 16


def idf(doc_frequency: int, doc_count: int) -> float:
    """Inverse document frequency, as Whoosh computes it (always positive)."""
    return math.log(doc_count / (doc_frequency + 1)) + 1


def bm25(idf_value: float, tf: float, length: float, avg_length: float, k1: float = K1, b: float = B) -> float:
    """One field's BM25 for a term occurring ``tf`` times in a field of ``length`` tokens."""
    return idf_value * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / (avg_length or 1)))
