"""User query -> Whoosh query: syntax, field filters, phrases, synonyms.

The syntax (docs/query-syntax.md): free text; ``"phrase"`` or ``“phrase”``;
``AND``, ``OR``, ``NOT`` and ``-term``; parentheses; and the fields
``year:``, ``section:``, ``keyword:`` (``关键词:``), ``title:``, ``doc:``
and ``region:``. Terms written side by side are a *soft AND*: a passage
with all of them ranks above every passage with fewer, but passages with
some still match.

>>> parse("大气污染 year:[2017 TO 2018] -扬尘")
Seq(items=[Text(text='大气污染'), Field(name='year', value='2017', high='2018', phrase=False), Not(item=Text(text='扬尘'))], hard=False)
>>> parse('"社会消费品')
Traceback (most recent call last):
...
erqi_search.errors.QuerySyntaxError: 查询语法错误: 引号未闭合 (unclosed quote); close the phrase with "
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .analysis import STOP_WORDS, query_grams, synonym_classes, words
from .text import atoms, normalize_text
from .errors import QuerySyntaxError

#: Field aliases a query may use, and the field each means.
FIELDS = {
    "year": "year", "年份": "year",
    "section": "section", "章节": "section",
    "keyword": "keyword", "keywords": "keyword", "关键词": "keyword",
    "title": "title", "标题": "title",
    "doc": "doc",
    "region": "region", "地区": "region",
}

# Score weights (tuned with bench/relevance.py on the dev queries).
SYNONYM_WEIGHT = 0.6
FIELD_WEIGHTS = {"keywords": 3.0, "section": 2.0, "section_words": 1.0, "title": 0.5, "key_terms": 1.0}
GRAMS_WEIGHT = 0.8
PHRASE_BONUS = 2.0
COORD_BONUS = 100.0
YEAR_TERM_BONUS = 2.0


def _error(zh: str, en: str, hint: str) -> QuerySyntaxError:
    return QuerySyntaxError(f"查询语法错误: {zh} ({en}); {hint}")


# ------------------------------------------------------------------- syntax

@dataclass
class Text:
    text: str


@dataclass
class Phrase:
    text: str


@dataclass
class Field:
    name: str
    value: str
    high: str | None = None  # a range's upper end
    phrase: bool = False


@dataclass
class Not:
    item: object


@dataclass
class Seq:
    items: list
    hard: bool = False  # an explicit AND was written


@dataclass
class Or:
    items: list


_QUOTES = {'"': '"', "“": "”"}
_FIELD = re.compile(r"([A-Za-z_]+|关键词|年份|章节|标题|地区)[:：]")
_STOP_CHARS = set(" \t\r\n\u3000()\"“”")


class _Parser:
    def __init__(self, text: str):
        self.s = text
        self.i = 0

    def parse(self):
        node = self._or()
        self._space()
        if self.i < len(self.s):
            raise _error("多余的右括号", "unbalanced ')'", "remove it or add the matching '('")
        return node

    def _space(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n\u3000":
            self.i += 1

    def _peek_word(self) -> str:
        self._space()
        j = self.i
        while j < len(self.s) and self.s[j] not in _STOP_CHARS:
            j += 1
        return self.s[self.i : j]

    def _or(self):
        items = [self._seq()]
        while self._peek_word() == "OR":
            self.i += 2
            if self._at_end():
                raise _error("OR 后缺少查询词", "nothing after OR", "add a term after OR or remove it")
            items.append(self._seq())
        return items[0] if len(items) == 1 else Or(items)

    def _at_end(self) -> bool:
        self._space()
        return self.i >= len(self.s) or self.s[self.i] == ")"

    def _seq(self):
        items, hard = [], False
        while not self._at_end():
            word = self._peek_word()
            if word == "OR":
                if not items:
                    raise _error("OR 前缺少查询词", "nothing before OR", "add a term before OR or remove it")
                break
            if word == "AND":
                if not items:
                    raise _error("AND 前缺少查询词", "nothing before AND", "add a term before AND or remove it")
                self.i += 3
                if self._at_end():
                    raise _error("AND 后缺少查询词", "nothing after AND", "add a term after AND or remove it")
                hard = True
                continue
            items.append(self._unary())
        if not items:
            raise _error("括号内为空", "empty parentheses", "put a term inside or remove them")
        return items[0] if len(items) == 1 and not hard else Seq(items, hard)

    def _unary(self):
        self._space()
        if self._peek_word() == "NOT":
            self.i += 3
            if self._at_end():
                raise _error("NOT 后缺少查询词", "nothing after NOT", "add the term to exclude after NOT")
            return Not(self._unary())
        if self.s[self.i] == "-" and self.i + 1 < len(self.s) and self.s[self.i + 1] not in _STOP_CHARS - {'"', "“", "("}:
            self.i += 1
            return Not(self._primary())
        return self._primary()

    def _primary(self):
        self._space()
        ch = self.s[self.i]
        if ch == "(":
            self.i += 1
            node = self._or()
            self._space()
            if self.i >= len(self.s) or self.s[self.i] != ")":
                raise _error("括号未闭合", "unclosed '('", "add the missing ')'")
            self.i += 1
            return node
        if ch == '"' or (ch == "“" and "”" in self.s[self.i :]):
            return Phrase(self._quoted())
        if ch in "“”":  # an unpaired Chinese quote, as in pasted text, is punctuation
            self.i += 1
            return Text("")
        m = _FIELD.match(self.s, self.i)
        if m:
            return self._field(m)
        word = self._peek_word()
        self.i += len(word)
        return Text(word)

    def _quoted(self) -> str:
        end = self.s.find(_QUOTES[self.s[self.i]], self.i + 1)
        if end < 0:
            raise _error("引号未闭合", "unclosed quote", 'close the phrase with "')
        text = self.s[self.i + 1 : end]
        self.i = end + 1
        return text

    def _field(self, m: re.Match) -> Field:
        name = FIELDS.get(m.group(1).lower()) or FIELDS.get(m.group(1))
        if name is None:
            known = ", ".join(k for k in FIELDS if k.isascii())
            raise _error(f"未知字段 {m.group(1)}", f"unknown field {m.group(1)!r}", f"use one of {known}")
        self.i = m.end()
        if self.i >= len(self.s) or self.s[self.i] in " \t\r\n\u3000)":
            raise _error(f"字段 {m.group(1)} 缺少值", f"field {m.group(1)!r} has no value",
                         f"write it as {m.group(1)}:VALUE")
        ch = self.s[self.i]
        if ch in "[{":
            end = self.s.find("]" if ch == "[" else "}", self.i)
            if end < 0:
                raise _error("范围未闭合", "unclosed range", "write it as year:[2017 TO 2018]")
            parts = self.s[self.i + 1 : end].split()
            self.i = end + 1
            if len(parts) != 3 or parts[1].upper() != "TO":
                raise _error("范围格式错误", "bad range", "write it as year:[2017 TO 2018]")
            return self._checked(Field(name, parts[0], parts[2]))
        if ch == '"' or (ch == "“" and "”" in self.s[self.i :]):
            return Field(name, self._quoted(), phrase=True)
        word = self._peek_word()
        self.i += len(word)
        low, dash, high = word.partition("-")
        if name == "year" and dash:
            return self._checked(Field(name, low, high))
        return self._checked(Field(name, word))

    @staticmethod
    def _checked(f: Field) -> Field:
        if f.name == "year":
            for value in (f.value, f.high):
                if value is not None and not (value.isdigit() and len(value) == 4) and value != "*":
                    raise _error(f"年份无效 {value}", f"year must be four digits, not {value!r}",
                                 "write year:2020 or year:[2017 TO 2018]")
        return f


def parse(text: str):
    """Parse a query string into a small syntax tree (raises :class:`QuerySyntaxError`)."""
    if len(text) > 2000:
        raise _error("查询过长", "query too long", "use at most 2,000 characters")
    if not text.strip():
        raise _error("查询为空", "empty query", "type the words to search for")
    return _Parser(text).parse()


# ------------------------------------------------------------------ compile

@dataclass
class Compiled:
    """A Whoosh query plus what the presenter needs."""

    query: object | None  # None: nothing searchable
    highlight_terms: list[str] = field(default_factory=list)
    hint: str = ""


class QueryCompiler:
    """Compiles syntax trees with the index's own segmenter and the synonym table."""

    def __init__(self, segmenter, has_term=None):
        """``has_term(field, text)`` tells whether the index holds a term, so
        that absent terms are left out of the query (fewer matchers to run)."""
        from whoosh import query as wq

        self.wq = wq
        self.seg = segmenter
        self.has_term = has_term or (lambda fieldname, text: True)
        self.synonyms = synonym_classes()
        self.highlights: list[str] = []

    def compile(self, node) -> Compiled:
        self.highlights = []
        q = self._node(node)
        if q is None:
            return Compiled(None, [], "查询中没有可检索的词 (nothing searchable: only stop words or punctuation)")
        return Compiled(q, list(dict.fromkeys(self.highlights)))

    # -- nodes

    def _node(self, node):
        wq = self.wq
        if isinstance(node, Text):
            return self._text(node.text)
        if isinstance(node, Phrase):
            return self._phrase(node.text)
        if isinstance(node, Field):
            return self._field(node)
        if isinstance(node, Not):
            inner = self._quiet(node.item)
            return None if inner is None else wq.Not(inner)
        if isinstance(node, Or):
            subs = [q for q in (self._node(n) for n in node.items) if q is not None]
            return wq.Or(subs) if len(subs) > 1 else (subs[0] if subs else None)
        return self._seq(node)

    def _quiet(self, node):
        """Compile without collecting highlight terms (for excluded parts)."""
        saved = list(self.highlights)
        q = self._node(node)
        self.highlights = saved
        return q

    def _seq(self, node: Seq):
        wq = self.wq
        positive, negative, filters = [], [], []
        for item in node.items:
            q = self._node(item)
            if q is None:
                continue
            if isinstance(item, Not):
                negative.append(q.query)
            elif isinstance(item, Field):
                filters.append(q)
            else:
                positive.append(q)
        if node.hard:
            main = wq.And(positive) if len(positive) > 1 else (positive[0] if positive else None)
        else:
            main = self._soft_and(positive)
        # (whoosh's AndNot query drops the exclusion in some trees; And + Not does not)
        excluded = [wq.Not(wq.Or(negative))] if negative else []
        parts = ([main] if main is not None else []) + filters + excluded
        if not parts:
            return None
        return wq.And(parts) if len(parts) > 1 else parts[0]

    def _soft_and(self, units: list):
        """OR of the units with a coordination bonus per unit matched."""
        if len(units) <= 1:
            return units[0] if units else None
        return coordinated_or(units, COORD_BONUS / len(units))

    # -- free text

    def _text(self, text: str):
        norm = normalize_text(text)
        units = [u for u in (self._unit(t) for t in self._terms(norm)) if u is not None]
        if not units:
            return None
        if re.fullmatch(r"(19|20)\d\d", norm):
            units[0] = self.wq.Or([units[0], self.wq.NumericRange("year", int(norm), int(norm),
                                                                   boost=YEAR_TERM_BONUS, constantscore=True)])
        if len(units) == 1:
            return units[0]
        whole = self._grams_query(norm)
        soft = self._soft_and(units)
        if whole is None or whole is self.wq.NullQuery:
            return soft
        return self.wq.AndMaybe(soft, whole.with_boost(PHRASE_BONUS))

    def _terms(self, norm: str) -> list[str]:
        """The query terms of a fragment: its words, stop words dropped, with
        runs of single characters (words the index does not know, such as a
        name cut into characters) kept together, and consecutive words that
        spell a synonym-table entry (空气+污染) joined into that entry."""
        terms: list[str] = []
        single = False
        for w in words(norm, self.seg):
            is_single = len(w) == 1 and w not in STOP_WORDS and bool(atoms(w)) and not w.isascii()
            if is_single and single:
                terms[-1] += w
            elif w not in STOP_WORDS:
                terms.append(w)
            single = is_single
        out, i = [], 0
        while i < len(terms):
            for j in range(len(terms), i + 1, -1):
                if "".join(terms[i:j]) in self.synonyms:
                    out.append("".join(terms[i:j]))
                    i = j
                    break
            else:
                out.append(terms[i])
                i += 1
        return out

    def _unit(self, term: str):
        """One query term: its exact forms and synonyms, in every field."""
        wq = self.wq
        if not atoms(term):
            return None
        alternatives = [(term, 1.0)] + [(s, SYNONYM_WEIGHT) for s in self.synonyms.get(term, ())]
        subs = []
        for alt, weight in alternatives:
            self.highlights.append(alt)
            matches = [wq.Term("content", alt, boost=weight)] if self.has_term("content", alt) else []
            grams_q = self._grams_query(alt)
            if grams_q is not None:
                matches.append(grams_q.with_boost(weight * GRAMS_WEIGHT))
            elif len(alt) == 1:  # one character: the bigrams that start with it
                matches.append(wq.Prefix("grams", alt, boost=weight * GRAMS_WEIGHT))
            for fieldname, boost in FIELD_WEIGHTS.items():
                if self.has_term(fieldname, alt):
                    matches.append(wq.Term(fieldname, alt, boost=boost * weight))
            if matches:
                subs.append(wq.Or(matches) if len(matches) > 1 else matches[0])
        if not subs:
            return wq.NullQuery
        return subs[0] if len(subs) == 1 else wq.DisjunctionMax(subs)

    def _grams_query(self, norm: str):
        """The bigram phrase(s) that find ``norm`` verbatim; ``None`` for one atom."""
        wq = self.wq
        parts = []
        for chunk in re.split(r"[^\w.%+]+", norm):
            bigrams = query_grams(chunk)
            if bigrams and not all(self.has_term("grams", b) for b in bigrams):
                return wq.NullQuery  # a pair the index lacks: the sequence cannot occur
            if len(bigrams) == 1:
                parts.append(wq.Term("grams", bigrams[0]))
            elif bigrams:
                parts.append(wq.Phrase("grams", bigrams))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _phrase(self, text: str):
        wq = self.wq
        norm = normalize_text(text)
        found = atoms(norm)
        if not found:
            return None
        self.highlights.append("".join(a for a, _, _ in found))
        q = self._grams_query(norm)
        if q is None:  # a single atom
            atom = found[0][0]
            return wq.Or([wq.Term("content", atom), wq.Prefix("grams", atom)])
        return q

    # -- fields

    def _field(self, f: Field):
        wq = self.wq
        value = normalize_text(f.value).strip()
        if f.name == "year":
            low = None if f.value == "*" else int(f.value)
            high = low if f.high is None else (None if f.high == "*" else int(f.high))
            return wq.NumericRange("year", low, high, constantscore=True)
        if f.name == "doc":
            return wq.Prefix("doc_id", f.value)
        if f.name == "region":
            return wq.Term("region", value)
        if f.name == "keyword":
            forms = [value] + list(self.synonyms.get(value, ()))
            self.highlights.extend(forms)
            return wq.Or([wq.Term(fn, form) for form in forms for fn in ("keywords", "key_terms")])
        fieldname = {"section": "section_words", "title": "title"}[f.name]
        terms = [w for w in words(value, self.seg) if w not in STOP_WORDS and atoms(w)]
        if not terms:
            return None
        q = wq.And([wq.Term(fieldname, w) for w in terms]) if len(terms) > 1 else wq.Term(fieldname, terms[0])
        if f.name == "section":
            q = wq.Or([q, wq.Term("section", value)])
        return wq.ConstantScoreQuery(q, 1.0)


# ------------------------------------------------------------ coordination

def coordinated_or(units: list, bonus: float):
    """An OR whose score adds ``bonus`` for every unit a document matches, so
    that documents matching more units always rank first (soft AND). One
    matcher per unit: nothing is evaluated twice."""
    from whoosh import matching
    from whoosh import query as wq

    class CoordinatedOr(wq.Or):
        def _matcher(self, subs, searcher, context):
            active = [m for m in (q.matcher(searcher, context) for q in subs) if m.is_active()]
            return CoordinationMatcher(active, bonus) if active else matching.NullMatcher()

        def normalize(self):
            return self

    class CoordinationMatcher(matching.Matcher):
        def __init__(self, subs, bonus):
            self.subs, self.bonus = subs, bonus

        def is_active(self):
            return any(m.is_active() for m in self.subs)

        def id(self):
            return min(m.id() for m in self.subs if m.is_active())

        def _current(self):
            i = self.id()
            return [m for m in self.subs if m.is_active() and m.id() == i]

        def next(self):
            for m in self._current():
                m.next()

        def skip_to(self, target):
            for m in self.subs:
                if m.is_active() and m.id() < target:
                    m.skip_to(target)

        def score(self):
            current = self._current()
            return sum(m.score() for m in current) + self.bonus * len(current)

        def weight(self):
            return sum(m.weight() for m in self._current())

        def copy(self):
            return CoordinationMatcher([m.copy() for m in self.subs], self.bonus)

        def children(self):
            return list(self.subs)

        def replace(self, minquality=0):
            return self

        def supports_block_quality(self):
            return False

        def max_quality(self):  # no bound is known: never let a parent skip on quality
            return float("inf")

        def matching_terms(self, id=None):
            for m in self.subs:
                if m.is_active() and m.id() == (self.id() if id is None else id):
                    yield from m.matching_terms(id)

    return CoordinatedOr(units)
