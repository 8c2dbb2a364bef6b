"""User query -> :class:`~erqi_search.plan.Plan`: syntax, field filters,
phrases, synonyms, aliases; engines evaluate the plan.

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
from dataclasses import dataclass

from .analysis import STOP_WORDS, query_grams, synonym_classes, words
from .errors import QuerySyntaxError
from .plan import All, Any, Exclude, Filter, Form, Plan, Soft, Term, YearForm
from .plan import Phrase as Sequence
from .ranking import (ALIAS_WEIGHT, MAX_DEPTH, MAX_LEAVES, MAX_TERMS, PART_WEIGHT, PHRASE_BONUS, SYNONYM_WEIGHT,
                      YEAR_TERM_BONUS)
from .text import atoms, normalize_text

#: Field aliases a query may use, and the field each means.
FIELDS = {
    "year": "year", "年份": "year",
    "section": "section", "章节": "section",
    "keyword": "keyword", "keywords": "keyword", "关键词": "keyword",
    "title": "title", "标题": "title",
    "doc": "doc",
    "region": "region", "地区": "region",
}

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
#: ``name:`` or ``name：``: any ASCII name (an unknown one is an error that
#: lists the known ones) or a Chinese alias of :data:`FIELDS`.
_FIELD = re.compile("([A-Za-z_]+|" + "|".join(k for k in FIELDS if not k.isascii()) + ")[:：]")
_STOP_CHARS = set(" \t\r\n\u3000()\"“”")


class _Parser:
    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.depth = 0

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
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _error("NOT 嵌套过深", f"NOT nested deeper than {MAX_DEPTH}", "remove the repeated NOT")
            node = Not(self._unary())
            self.depth -= 1
            return node
        if self.s[self.i] == "-" and self.i + 1 < len(self.s) and self.s[self.i + 1] not in _STOP_CHARS - {'"', "“", "("}:
            self.i += 1
            return Not(self._primary())
        return self._primary()

    def _primary(self):
        self._space()
        ch = self.s[self.i]
        if ch == "(":
            self.i += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _error("括号嵌套过深", f"parentheses nested deeper than {MAX_DEPTH}",
                             "remove the extra parentheses")
            node = self._or()
            self.depth -= 1
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
            return self._checked(Field(name, self._quoted(), phrase=True))
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
                if value is not None and not re.fullmatch(r"\d{4}", value) and value != "*":  # not ²⁰²⁰
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

#: Words that ask rather than name a topic (a query typed as a question):
#: they only add a little to the score (see :data:`erqi_search.ranking.OPTIONAL_WEIGHT`).
QUESTION_WORDS = frozenset(
    "什么 是什么 怎么 怎么样 怎样 怎么办 如何 哪些 哪个 哪里 为什么 为何 多少 几 吗 呢 吧 "
    "有关 有哪些 情况 的情况 相关 关于 请问 介绍 一下".split()
)


class QueryCompiler:
    """Compiles syntax trees into :class:`~erqi_search.plan.Plan` objects.

    ``segmenter`` is the index's query dictionary; ``aliases`` maps a
    normalised term to its aliases (mined from the corpus and curated);
    ``doc_frequency(term, field="content")`` (optional) tells how common a
    term is, so that a query past :data:`~erqi_search.ranking.MAX_TERMS`
    drops its most common terms first, and a word the corpus never uses is
    looked for as its known parts. Compiling is pure: the same tree gives the same plan.

    >>> from erqi_search.dictionary import Segmenter
    >>> plan = QueryCompiler(Segmenter({"大气": 5, "污染": 5}, 100)).compile(parse("大气 -扬尘"))
    >>> plan.root
    All(items=(Term(label='大气', forms=(Form(text='大气', weight=1.0, origin='typed'),), optional=False), Exclude(item=Term(label='扬尘', forms=(Form(text='扬尘', weight=1.0, origin='typed'),), optional=False))))
    """

    def __init__(self, segmenter, aliases=None, doc_frequency=None, synonyms=None, use_synonyms=True,
                 use_aliases=True):
        self.seg = segmenter
        self.synonyms = (synonyms if synonyms is not None else synonym_classes()) if use_synonyms else {}
        self.aliases = (aliases or {}) if use_aliases else {}
        self.doc_frequency = doc_frequency

    def compile(self, node) -> Plan:
        highlights: list[str] = []
        root = self._node(node, highlights)
        if root is None:
            return Plan(None, hint="查询中没有可检索的词 (nothing searchable: only stop words or punctuation)")
        root, notes = self._capped(root)
        root = self._with_parts(root, highlights)
        return Plan(root, tuple(dict.fromkeys(h for h in highlights if h)), tuple(notes))

    # -- nodes

    def _node(self, node, highlights: list[str]):
        if isinstance(node, Text):
            return self._text(node.text, highlights)
        if isinstance(node, Phrase):
            return self._phrase(node.text, highlights)
        if isinstance(node, Field):
            return self._field(node, highlights)
        if isinstance(node, Not):
            inner = self._node(node.item, [])  # excluded words are not highlighted
            return None if inner is None else Exclude(inner)
        if isinstance(node, Or):
            subs = tuple(q for q in (self._node(n, highlights) for n in node.items) if q is not None)
            return Any(subs) if len(subs) > 1 else (subs[0] if subs else None)
        return self._seq(node, highlights)

    def _seq(self, node: Seq, highlights: list[str]):
        positive, rest = [], []
        for item in node.items:
            q = self._node(item, highlights)
            if q is None:
                continue
            (rest if isinstance(q, (Filter, Exclude)) else positive).append(q)
        if node.hard:
            main = All(tuple(positive)) if len(positive) > 1 else (positive[0] if positive else None)
        else:
            main = _soft(positive)
        parts = ([main] if main is not None else []) + rest
        if not parts or all(isinstance(p, Exclude) for p in parts) and main is None and not rest:
            return None
        return All(tuple(parts)) if len(parts) > 1 else parts[0]

    # -- free text

    def _text(self, text: str, highlights: list[str]):
        norm = normalize_text(text)
        found = self._terms(norm)
        terms = [t for t in (self._term(w, highlights) for w in found) if t is not None]
        if not terms:
            return None
        if len(terms) == 1:
            return terms[0]
        # the fragment as typed, punctuation and all: each run between marks found verbatim
        bonus = (Sequence(norm, weight=PHRASE_BONUS, optional=True),) if len(atoms(norm)) > 1 else ()
        return Soft(tuple(terms) + bonus)

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
            elif w not in STOP_WORDS and atoms(w):
                terms.append(w)
            single = is_single
        out, i = [], 0
        while i < len(terms):
            for j in range(len(terms), i + 1, -1):
                if "".join(terms[i:j]) in self.synonyms or "".join(terms[i:j]) in self.aliases:
                    out.append("".join(terms[i:j]))
                    i = j
                    break
            else:
                out.append(terms[i])
                i += 1
        return out

    def _term(self, term: str, highlights: list[str]) -> Term | None:
        """One concept: its typed form, synonyms and aliases (and a year, for a bare year)."""
        forms: list = [Form(term)]
        forms += [Form(s, SYNONYM_WEIGHT, "synonym") for s in self.synonyms.get(term, ())]
        seen = {f.text for f in forms}
        forms += [Form(a, ALIAS_WEIGHT, "alias") for a in self.aliases.get(term, ()) if a not in seen]
        if re.fullmatch(r"(19|20)\d\d", term):
            forms.append(YearForm(int(term), YEAR_TERM_BONUS))
        highlights.extend(f.text for f in forms if isinstance(f, Form))
        return Term(term, tuple(forms), optional=term in QUESTION_WORDS)

    def _phrase(self, text: str, highlights: list[str]):
        norm = normalize_text(text)
        found = atoms(norm)
        if not found:
            return None
        highlights.append("".join(a for a, _, _ in found))
        return Sequence(norm)

    # -- fields

    def _field(self, f: Field, highlights: list[str]):
        value = normalize_text(f.value).strip()
        if f.name == "year":
            low = None if f.value == "*" else int(f.value)
            high = low if f.high is None else (None if f.high == "*" else int(f.high))
            return Filter("year", low=low, high=high)
        if f.name == "doc":
            return Filter("doc", value=f.value)
        if f.name == "region":
            return Filter("region", value=value)
        if f.name == "keyword":
            forms = (value,) + tuple(self.synonyms.get(value, ()))
            highlights.extend(forms)
            return Filter("keyword", values=forms)
        return self.words_filter(f.name, value)

    def words_filter(self, name: str, value: str) -> Filter | None:
        """``section:`` or ``title:``: every word of ``value`` in the headings or
        the title (for ``section``, the whole normalised heading also counts)."""
        value = normalize_text(value).strip()
        terms = tuple(w for w in words(value, self.seg) if w not in STOP_WORDS and atoms(w))
        if not terms:
            return None
        return Filter(name, value=value if name == "section" else "", words=terms)

    # -- words the corpus never uses

    def _with_parts(self, node, highlights: list[str]):
        """``node`` with each term the corpus never uses (in no form, and not
        as a character sequence either) given its known parts as forms:
        ``停车难`` is looked for as ``停车``. Needs ``doc_frequency``."""
        if self.doc_frequency is None:
            return node
        if isinstance(node, Term):
            parts = self._parts(node)
            highlights.extend(f.text for f in parts)
            return Term(node.label, node.forms + parts, node.optional) if parts else node
        if isinstance(node, Exclude):
            return Exclude(self._with_parts(node.item, highlights))
        if isinstance(node, (Soft, All, Any)):
            return type(node)(tuple(self._with_parts(n, highlights) for n in node.items))
        return node

    def _parts(self, term: Term) -> tuple[Form, ...]:
        texts = [f.text for f in term.forms if isinstance(f, Form)]
        if term.optional or len(atoms(term.label)) < 3 or any(self.doc_frequency(t) for t in texts):
            return ()
        if all(self.doc_frequency(pair, "grams") for pair in query_grams(term.label)):
            return ()  # it may occur verbatim, cut another way
        parts = dict.fromkeys(p for p in self.seg.cut_for_search(term.label)
                              if p != term.label and len(atoms(p)) >= 2 and p not in STOP_WORDS)
        return tuple(Form(p, PART_WEIGHT, "part") for p in parts if self.doc_frequency(p))

    # -- bounds

    def _capped(self, root):
        """At most MAX_TERMS distinct terms and MAX_LEAVES leaves: past them
        the most common terms go (the user is told which)."""
        labels = list(dict.fromkeys(t.label for t in Plan(root).terms()))
        leaves = _count_leaves(root)
        if len(labels) <= MAX_TERMS and leaves <= MAX_LEAVES:
            return root, []
        frequency = self.doc_frequency or (lambda term: 0)
        keep_count = max(1, min(MAX_TERMS, len(labels) - (leaves - MAX_LEAVES)))
        ranked = sorted(labels, key=lambda t: (frequency(t), -labels.index(t)))
        dropped = set(ranked[keep_count:])
        pruned = _without(root, dropped)
        note = (f"查询词过多, 已忽略最常见的 {len(dropped)} 个 (too many terms: dropped the {len(dropped)} most "
                f"common: {', '.join(t for t in labels if t in dropped)})")
        return pruned, [note]


def _soft(items: list):
    if len(items) <= 1:
        return items[0] if items else None
    return Soft(tuple(items))


def _count_leaves(node) -> int:
    if isinstance(node, Exclude):
        return _count_leaves(node.item)
    if isinstance(node, (Soft, All, Any)):
        return sum(_count_leaves(n) for n in node.items)
    return 1


def _without(node, dropped: set):
    """``node`` with the terms labelled in ``dropped`` (and nodes left empty) removed."""
    if isinstance(node, Term):
        return None if node.label in dropped else node
    if isinstance(node, Exclude):
        inner = _without(node.item, dropped)
        return None if inner is None else Exclude(inner)
    if isinstance(node, (Soft, All, Any)):
        items = tuple(n for n in (_without(i, dropped) for i in node.items) if n is not None)
        if not items:
            return None
        return items[0] if len(items) == 1 and not isinstance(items[0], Exclude) else type(node)(items)
    return node
