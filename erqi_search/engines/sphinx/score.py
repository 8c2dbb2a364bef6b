"""The embedded engine's ranking formula (:mod:`erqi_search.ranking`)
computed over the tokens a Sphinx row stores, so scores equal the embedded
engine's; and the plan walks the engine needs (coordination, phrase checks).
"""

from __future__ import annotations

import json
import re
from collections import Counter

from ... import ranking
from ...model import Passage
from ...plan import All, Exclude, Filter, Phrase, Soft, Term, YearForm
from ...text import ADJACENT, APART, CJK_RE, atom_pattern, atom_text, atoms, normalize_text


class Row:
    """A row: the passage's attributes, stored record and tokens."""

    def __init__(self, row):
        self.id, self.year, self.doc_id, self.ordinal = int(row[0]), int(row[1]) or None, row[2], int(row[3])
        self.record = json.loads(row[4])
        self.tokens = json.loads(row[5])
        self.counts = {name: Counter(tokens) for name, tokens in self.tokens.items()}
        self._atoms = None

    @property
    def atom_text(self) -> str:
        if self._atoms is None:
            self._atoms = atom_text(normalize_text(self.record["text"]))
        return self._atoms

    def tf(self, field: str, text: str) -> int:
        if field != "grams":
            return self.counts.get(field, {}).get(text, 0)
        found = atoms(text)
        if len(found) != 1:
            return len(atom_pattern(text).findall(self.atom_text)) if found else 0
        # one atom, as the embedded engine reads it: a word, or (Chinese) the first of pairs
        word = self.counts.get("content", {}).get(text, 0)
        if len(text) == 1 and CJK_RE.match(text):
            pairs = len(re.findall(f"(?<=[{ADJACENT}{APART}]){re.escape(text)}{ADJACENT}", self.atom_text))
            return max(word, pairs)
        return word

    def length(self, field: str) -> int:
        if field == "grams":
            return self.atom_text.count("\x1f")
        return len(self.tokens.get(field, ()))

    def fields_with(self, text: str) -> list[str]:
        return [f for f in (*ranking.FIELD_WEIGHTS, "grams") if self.tf(f, text)]

    def passage(self) -> Passage:
        r = self.record
        return Passage(self.doc_id, f"{self.doc_id}#{self.ordinal:03d}", self.ordinal, r["title"], self.year,
                       r["date"], r["region"], r["source"], tuple(r["section_path"]), tuple(r["keywords"]),
                       tuple(r["key_terms"]), r["text"], tuple(r["span"]))


class Context:
    def __init__(self, stats: dict, dfs: dict):
        self.n = max(stats["count"], 1)
        self.avg = stats["avg"]
        self.dfs = dfs

    def bm25(self, field: str, text: str, doc: Row, weight: float) -> float:
        tf = doc.tf(field, text)
        if not tf:
            return 0.0
        idf = ranking.idf(self.dfs.get((field, text), 1), self.n)
        return weight * ranking.bm25(idf, tf, doc.length(field), self.avg[field])


def node_score(node, doc: Row, ctx: Context) -> tuple[float, float]:
    """``(score, coordination)`` of a document for a plan node (coordination
    is the share of a soft AND's items present, 1 elsewhere)."""
    if isinstance(node, Term):
        return max((form_score(f, doc, ctx) for f in node.forms), default=0.0), 1.0
    if isinstance(node, Phrase):
        return ctx.bm25("grams", node.text, doc, ranking.QUOTED_PHRASE_WEIGHT * node.weight), 1.0
    if isinstance(node, (Filter, Exclude)):
        return 0.0, 1.0
    if isinstance(node, Soft):
        required = [n for n in node.items if not getattr(n, "optional", False)] or list(node.items)
        optional = [n for n in node.items if getattr(n, "optional", False) and n not in required]
        scores = [node_score(n, doc, ctx)[0] for n in required]
        present = sum(1 for n in required if matches(n, doc))
        extra = sum((ranking.OPTIONAL_WEIGHT if isinstance(n, Term) else 1.0) * node_score(n, doc, ctx)[0]
                    for n in optional)
        coord = present / len(required)
        return sum(scores) + extra + ranking.COORD_BONUS * coord, coord
    parts = [node_score(n, doc, ctx) for n in node.items if not isinstance(n, Exclude)]
    coords = [c for n, (_, c) in zip([n for n in node.items if not isinstance(n, Exclude)], parts)
              if isinstance(n, Soft)]
    return sum(s for s, _ in parts), (coords[0] if coords and isinstance(node, All) else 1.0)


def form_score(form, doc: Row, ctx: Context) -> float:
    if isinstance(form, YearForm):
        return form.weight if doc.year == form.year else 0.0
    score = sum(ctx.bm25(field, form.text, doc, w * form.weight) for field, w in ranking.FIELD_WEIGHTS.items())
    if atoms(form.text):
        score += ctx.bm25("grams", form.text, doc, ranking.GRAMS_WEIGHT * form.weight)
    return score


def matches(node, doc: Row) -> bool:
    """Whether a document matches a plan node (the coordination's "present")."""
    if isinstance(node, Term):
        return any(doc.year == f.year if isinstance(f, YearForm) else bool(doc.fields_with(f.text)) for f in node.forms)
    if isinstance(node, Phrase):
        return doc.tf("grams", node.text) > 0
    if isinstance(node, Filter):
        return filter_matches(node, doc)
    if isinstance(node, Exclude):
        return not matches(node.item, doc)
    if isinstance(node, All):
        return all(matches(n, doc) for n in node.items)
    required = [n for n in node.items if not getattr(n, "optional", False)] or list(node.items)
    return any(matches(n, doc) for n in required)


def filter_matches(f: Filter, doc: Row) -> bool:
    t = doc.tokens
    if f.field == "year":
        return bool(doc.year) and (f.low is None or doc.year >= f.low) and (f.high is None or doc.year <= f.high)
    if f.field in ("section", "title"):
        field = "section_words" if f.field == "section" else "title"
        return all(w in t.get(field, ()) for w in f.words) or (f.field == "section" and f.value in t.get("section", ()))
    if f.field == "keyword":
        return any(v in t.get("keywords", ()) or v in t.get("key_terms", ()) for v in f.values)
    if f.field == "region":
        return normalize_text(doc.record["region"]) == f.value
    if f.field == "doc":
        return doc.doc_id.startswith(f.value)
    return False


def plan_nodes(node):
    if node is None:
        return
    yield node
    if isinstance(node, Exclude):
        return
    for item in getattr(node, "items", ()):
        yield from plan_nodes(item)


def gapped(text: str) -> bool:
    found = atoms(text)
    return any(a[2] != b[1] for a, b in zip(found, found[1:]))


def root_soft(node):
    if isinstance(node, Soft):
        return node
    if isinstance(node, All):
        softs = [n for n in node.items if isinstance(n, Soft)]
        return softs[0] if len(softs) == 1 else None
    return None


def replace_node(node, old, new):
    if node is old:
        return new
    if isinstance(node, All):
        return All(tuple(replace_node(n, old, new) for n in node.items))
    return node

