"""The vectorised evaluator: a :class:`~erqi_search.plan.Plan` over packed
postings, in one pass that gives the ranking, the exact totals and the facets.

Every node evaluates to a :class:`Matches`: the sorted document numbers it
matches and their scores (numpy arrays). Unions and intersections combine
them *sparsely* (concatenate, stable sort, reduce) while the lists are
short, and through *dense* accumulators of one cell a document once they
hold more than :data:`DENSE_THRESHOLD` postings (measured in
docs/architecture.md: sparse wins by 2-8x up to a few thousand postings,
dense from about 50,000).

Scoring (constants in :mod:`erqi_search.ranking`): a form scores BM25 in
each field times the field's weight, plus its exact sequence of atoms in
``grams`` (positions checked) times ``GRAMS_WEIGHT``, all times the form's
weight; a term takes the best of its forms (per document: a term is present
when any of its forms is); a soft AND adds its items' scores plus
``COORD_BONUS`` times the share of items present, and the final order puts
the number of items present first, then the score (rounded), the newer
year, the report id and the passage number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import ranking
from ..base import Outcome

from ...plan import All, Any, Exclude, Filter, Phrase, Plan, Soft, Term, YearForm
from ...text import CJK_RE, atom_pattern, atom_text, atoms, normalize_text

DENSE_THRESHOLD = 40_000
#: Prefix expansion of a one-character word reads at most this many terms a segment.
PREFIX_LIMIT = 512
_EMPTY_I = np.zeros(0, np.int32)
_EMPTY_F = np.zeros(0, np.float64)


@dataclass
class Matches:
    """Documents (sorted, unique) and their scores; ``coord`` (the share of a
    soft AND's items present) on the node that decides the coordination."""

    docs: np.ndarray
    scores: np.ndarray
    coord: np.ndarray | None = None
    items: int = 1

    @classmethod
    def empty(cls) -> "Matches":
        return cls(_EMPTY_I, _EMPTY_F)

    def __len__(self) -> int:
        return len(self.docs)


def combine(parts: list[Matches], how: str, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of ``parts``: ``(docs, scores, counts)`` where scores are summed
    (``how="sum"``) or the largest (``"max"``) and counts tell in how many
    parts each document was."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _EMPTY_I, _EMPTY_F, np.zeros(0, np.int32)
    if len(parts) == 1:
        return parts[0].docs, parts[0].scores, np.ones(len(parts[0]), np.int32)
    total = sum(len(p) for p in parts)
    if total > DENSE_THRESHOLD:
        acc = np.zeros(size, np.float64)
        counts = np.zeros(size, np.int32)
        for p in parts:
            if how == "sum":
                acc[p.docs] += p.scores
            else:
                acc[p.docs] = np.maximum(acc[p.docs], p.scores)
            counts[p.docs] += 1
        docs = np.flatnonzero(counts > 0).astype(np.int32)
        return docs, acc[docs], counts[docs]
    docs = np.concatenate([p.docs for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    order = np.argsort(docs, kind="stable")
    docs, scores = docs[order], scores[order]
    starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
    reduce = np.add if how == "sum" else np.maximum
    return docs[starts], reduce.reduceat(scores, starts), np.diff(np.r_[starts, len(docs)]).astype(np.int32)


def _intersect(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``a`` and ``b`` of their common (sorted, unique) documents."""
    if len(a) > len(b):
        jb, ja = _intersect(b, a)
        return ja, jb
    at = np.searchsorted(b, a)
    at[at == len(b)] = 0
    hit = b[at] == a if len(b) else np.zeros(len(a), bool)
    return np.flatnonzero(hit), at[hit]


def _take(m: Matches, docs: np.ndarray) -> np.ndarray:
    """``m``'s scores for ``docs`` (0 where ``m`` has no such document)."""
    out = np.zeros(len(docs), np.float64)
    ja, jb = _intersect(docs, m.docs)
    out[ja] = m.scores[jb]
    return out


class Evaluator:
    """Evaluates plans over a :class:`~.reader.GenerationReader`."""

    def __init__(self, reader):
        self.r = reader
        self.size = reader.doc_count_all

    # -- leaves

    def _bm25(self, field: str, docs: np.ndarray, tf: np.ndarray, df: int) -> np.ndarray:
        idf = ranking.idf(df, self.r.doc_count)
        norms = self.r.norms(field, ranking.K1, ranking.B, docs)
        tf = tf.astype(np.float64)
        return idf * tf * (ranking.K1 + 1) / (tf + norms)

    def field_matches(self, field: str, term: str, weight: float) -> Matches:
        found = self.r.postings(field, term)
        if found is None:
            return Matches.empty()
        docs, freqs = found[0], found[1]
        return Matches(docs, weight * self._bm25(field, docs, freqs, self.r.live_df(docs)))

    def sequence(self, norm: str) -> tuple[np.ndarray, np.ndarray]:
        """Documents whose text holds the atoms of ``norm`` in order, adjacent
        where they are adjacent in ``norm`` and apart (punctuation, a space)
        where they are apart, and how often: exact whatever the segmentation.

        Every pair of adjacent atoms must be in the text at the same offset
        from the start (pairs at offsets 0 and 2 alone would also accept
        ``公园(游园)`` for ``公园游园``: atoms are counted without the marks
        between them), and a pair across a gap of the query must *not* be
        there. A run of one atom between gaps is checked against the stored
        text."""
        found = atoms(norm)
        if len(found) == 1:
            return self.single_atom(found[0][0])
        adjacent = [a[2] == b[1] for a, b in zip(found, found[1:])]
        pair = [found[i][0] + found[i + 1][0] for i in range(len(found) - 1)]
        wanted = [i for i, joined in enumerate(adjacent) if joined]
        # a run of one atom between gaps (or at an end, next to a gap) is covered by no pair
        alone = any(not (i > 0 and adjacent[i - 1]) and not (i < len(adjacent) and adjacent[i])
                    for i in range(len(found)))
        if len(found) == 2 and adjacent[0]:  # one pair is its own sequence: no positions needed
            postings = self.r.postings("grams", pair[0])
            return (postings[0], postings[1].astype(np.float64)) if postings is not None else (_EMPTY_I, _EMPTY_F)
        lists = []
        for offset in sorted(wanted):
            postings = self.r.postings("grams", pair[offset], positional=True)
            if postings is None:
                return _EMPTY_I, _EMPTY_F
            lists.append((offset, postings))
        if not lists:  # every atom apart: candidates from the last, then the text decides
            # The last atom starts a run in the text (a gap is before it), so it is a word or the first
            # of a pair; the first one ends a run, and as the end of a word (提质+文明) it is in neither.
            return self._verified(self.single_atom(found[-1][0])[0], norm)
        lists.sort(key=lambda item: len(item[1][0]))
        candidates = lists[0][1][0]
        for _, (docs, _, _) in lists[1:]:
            candidates = candidates[_intersect(candidates, docs)[0]]
        keys = None
        for offset, arrays in lists:
            starts = self._start_keys(arrays, candidates, offset)
            keys = starts if keys is None else starts[_intersect(starts, keys)[0]]
            if not len(keys):
                return _EMPTY_I, _EMPTY_F
        for offset in (i for i, joined in enumerate(adjacent) if not joined):
            across = self.r.postings("grams", pair[offset], positional=True)
            if across is not None:  # atoms apart in the query must not be adjacent in the text
                keys = np.delete(keys, _intersect(keys, self._start_keys(across, candidates, offset))[0])
        if not len(keys):
            return _EMPTY_I, _EMPTY_F
        owners = (keys >> 13).astype(np.int32)
        firsts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        docs, tf = owners[firsts], np.diff(np.r_[firsts, len(owners)]).astype(np.float64)
        return self._verified(docs, norm) if alone else (docs, tf)

    @staticmethod
    def _start_keys(arrays, candidates: np.ndarray, offset: int) -> np.ndarray:
        """``document << 13 | (position - offset + 4096)`` of a pair's
        occurrences in ``candidates``: where the sequence would start. Ascending."""
        docs, freqs, positions = arrays
        keep = np.zeros(len(docs), bool)
        keep[_intersect(docs, candidates)[0]] = True
        counts = freqs.astype(np.int64)
        owners = np.repeat(docs[keep].astype(np.int64), counts[keep])
        return owners << 13 | (positions[np.repeat(keep, counts)].astype(np.int64) - offset + 4096)

    def _verified(self, docs: np.ndarray, norm: str) -> tuple[np.ndarray, np.ndarray]:
        """The ``docs`` whose stored text holds the atom sequence of ``norm``, and how often."""
        pattern = atom_pattern(norm)
        keep, tf = [], []
        for doc in docs.tolist():
            count = len(pattern.findall(atom_text(normalize_text(self.r.passage(doc).text))))
            if count:
                keep.append(doc)
                tf.append(count)
        return np.array(keep, np.int32), np.array(tf, np.float64)

    def sequence_matches(self, norm: str, weight: float) -> Matches:
        """An exact sequence of atoms (:meth:`sequence`), scored as one BM25 term of ``grams``."""
        docs, tf = self.sequence(norm)
        if not len(docs):
            return Matches.empty()
        return Matches(docs, weight * self._bm25("grams", docs, tf, self.r.live_df(docs)))

    def single_atom(self, atom: str) -> tuple[np.ndarray, np.ndarray]:
        """Documents with one atom: as a word, or (a Chinese character) as the
        first of a pair."""
        lists = []
        word = self.r.postings("content", atom)
        if word is not None:
            lists.append(Matches(word[0], word[1].astype(np.float64)))
        if len(atom) == 1 and CJK_RE.match(atom):
            pairs = self.r.prefix_postings("grams", atom, PREFIX_LIMIT)
            if pairs is not None:
                lists.append(Matches(pairs[0], pairs[1]))
        docs, tf, _ = combine(lists, "max", self.size)
        return docs, tf

    def form(self, form) -> Matches:
        if isinstance(form, YearForm):
            docs = np.flatnonzero(self.r.years == form.year).astype(np.int32)
            return Matches(docs, np.full(len(docs), form.weight))
        parts = [self.field_matches(field, form.text, weight * form.weight)
                 for field, weight in ranking.FIELD_WEIGHTS.items()]
        if atoms(form.text):  # its atoms in a row (one atom: as a word or the first of a pair)
            parts.append(self.sequence_matches(form.text, ranking.GRAMS_WEIGHT * form.weight))
        docs, scores, _ = combine(parts, "sum", self.size)
        return Matches(docs, scores)

    def term(self, term: Term) -> Matches:
        docs, scores, _ = combine([self.form(f) for f in term.forms], "max", self.size)
        return Matches(docs, scores)

    def filter(self, f: Filter) -> Matches:
        r = self.r
        if f.field == "year":
            years = r.years
            mask = years > 0
            if f.low is not None:
                mask &= years >= f.low
            if f.high is not None:
                mask &= years <= f.high
            docs = np.flatnonzero(mask).astype(np.int32)
        elif f.field in ("section", "title"):
            field = "section_words" if f.field == "section" else "title"
            docs = None
            for word in f.words:
                found = r.postings(field, word)
                part = found[0] if found is not None else _EMPTY_I
                docs = part if docs is None else docs[_intersect(docs, part)[0]]
            docs = docs if docs is not None else _EMPTY_I
            if f.value:
                whole = r.postings("section", f.value)
                if whole is not None:
                    docs = combine([Matches(docs, np.zeros(len(docs))), Matches(whole[0], np.zeros(len(whole[0])))],
                                   "sum", self.size)[0]
        elif f.field == "keyword":
            lists = []
            for value in f.values:
                for field in ("keywords", "key_terms"):
                    found = r.postings(field, value)
                    if found is not None:
                        lists.append(Matches(found[0], np.zeros(len(found[0]))))
            docs = combine(lists, "sum", self.size)[0]
        elif f.field == "region":
            docs = np.sort(r.code_docs("region", "region", f.value))
        elif f.field == "doc":
            spans = [np.arange(first, first + n, dtype=np.int32)
                     for doc_id, (first, n) in r.report_ranges().items() if doc_id.startswith(f.value)]
            docs = np.sort(np.concatenate(spans)) if spans else _EMPTY_I
        else:
            raise ValueError(f"unknown filter field {f.field!r}")
        return Matches(docs, np.zeros(len(docs)))

    # -- inner nodes

    def node(self, node) -> Matches:
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Phrase):
            return self.sequence_matches(node.text, ranking.QUOTED_PHRASE_WEIGHT * node.weight)
        if isinstance(node, Filter):
            return self.filter(node)
        if isinstance(node, Soft):
            return self._soft(node)
        if isinstance(node, All):
            return self._all_node(node)
        if isinstance(node, Any):
            docs, scores, _ = combine([self.node(n) for n in node.items], "sum", self.size)
            return Matches(docs, scores)
        if isinstance(node, Exclude):
            return self._complement(self.node(node.item))
        raise TypeError(f"not a plan node: {node!r}")

    def _soft(self, node: Soft) -> Matches:
        required = [n for n in node.items if not _optional(n)]
        optional = [n for n in node.items if _optional(n)]
        if not required:
            required, optional = optional, []
        parts = [self.node(n) for n in required]
        docs, scores, counts = combine(parts, "sum", self.size)
        for n in optional:  # a question word is worth a fraction of a term; a bonus phrase its own weight
            share = ranking.OPTIONAL_WEIGHT if isinstance(n, Term) else 1.0
            scores = scores + share * _take(self.node(n), docs)
        coord = counts / len(required)
        return Matches(docs, scores + ranking.COORD_BONUS * coord, coord, len(required))

    def _all(self, parts: list[Matches]) -> Matches:
        """Intersection, scores added; the coordination of the (one) soft item carries through."""
        parts = sorted(parts, key=len)
        result = parts[0]
        for p in parts[1:]:
            ja, jb = _intersect(result.docs, p.docs)
            coord = result.coord[ja] if result.coord is not None else (p.coord[jb] if p.coord is not None else None)
            result = Matches(result.docs[ja], result.scores[ja] + p.scores[jb], coord,
                             result.items if result.coord is not None else p.items)
        return result

    def _all_node(self, node: All) -> Matches:
        positive = [self.node(n) for n in node.items if not isinstance(n, Exclude)]
        excluded = [self.node(n.item) for n in node.items if isinstance(n, Exclude)]
        result = self._all(positive) if positive else self._complement(Matches.empty())
        for out in excluded:
            if not len(result) or not len(out):
                continue
            keep = np.ones(len(result), bool)
            keep[_intersect(result.docs, out.docs)[0]] = False
            result = Matches(result.docs[keep], result.scores[keep],
                             result.coord[keep] if result.coord is not None else None, result.items)
        return result

    def _complement(self, m: Matches) -> Matches:
        mask = np.ones(self.size, bool)
        mask[m.docs] = False
        docs = np.flatnonzero(mask).astype(np.int32)
        return Matches(docs, np.zeros(len(docs)))


def explain(reader, plan: Plan, docs: list[int]) -> list[list[dict]]:
    """For each of ``docs``: the terms of ``plan`` whose forms it matches,
    each form with its origin, weight and the fields it was found in."""
    ev = Evaluator(reader)
    wanted = np.array(docs, np.int32)
    out: list[list[dict]] = [[] for _ in docs]
    excluded = {id(t) for node in _excluded(plan.root) for t in Plan(node).terms()}
    for term in plan.terms():
        if id(term) in excluded:
            continue
        for form in term.forms:
            if isinstance(form, YearForm):
                where = {"year": np.isin(wanted, ev.form(form).docs)}
            else:
                where = {field: np.isin(wanted, ev.field_matches(field, form.text, 1.0).docs)
                         for field in ranking.FIELD_WEIGHTS}
                where["grams"] = np.isin(wanted, ev.sequence_matches(form.text, 1.0).docs)
            for i in range(len(docs)):
                fields = [name for name, hit in where.items() if hit[i]]
                if fields:
                    out[i].append({"term": term.label, "form": getattr(form, "text", str(getattr(form, "year", ""))),
                                   "origin": form.origin, "weight": form.weight, "fields": fields})
    return out


def _excluded(node):
    """The subtrees of ``node`` under an :class:`Exclude`."""
    if isinstance(node, Exclude):
        yield node.item
    elif isinstance(node, (Soft, All, Any)):
        for item in node.items:
            yield from _excluded(item)


def _optional(node) -> bool:
    return getattr(node, "optional", False)


def evaluate(reader, plan: Plan, need: int, facets: bool = False) -> Outcome:
    """The top ``need`` documents of ``plan`` in the total order described
    above, the exact totals and (when asked) the facets, in one pass."""
    if plan.root is None:
        return Outcome([], [], 0, 0, {} if facets else None)
    m = Evaluator(reader).node(plan.root)
    docs, scores, coord = m.docs, m.scores, m.coord
    if reader.live is not None and len(docs):
        keep = reader.live[docs]
        docs, scores = docs[keep], scores[keep]
        coord = coord[keep] if coord is not None else None
    total = len(docs)
    total_all = int((coord >= 1.0 - 1e-9).sum()) if coord is not None else total
    rounded = np.round(scores, ranking.SCORE_DECIMALS)
    tier = np.round(coord * 1000).astype(np.int64) if coord is not None else np.zeros(total, np.int64)
    primary = tier * 1e7 + rounded
    if total > need:
        cut = np.partition(-primary, need - 1)[need - 1]
        window = np.flatnonzero(-primary <= cut)
    else:
        window = np.arange(total)
    years = reader.years[docs[window]].astype(np.int64)
    order = np.lexsort((reader.order_keys_of(docs[window]), -years, -rounded[window], -tier[window]))
    chosen = window[order][:need]
    out_facets = _facets(reader, docs) if facets else None
    return Outcome(docs[chosen].tolist(), rounded[chosen].tolist(), total, total_all, out_facets)


def _facets(reader, docs: np.ndarray) -> dict:
    """Counts of the matches by year, top-level section and region, largest first."""
    years = np.bincount(reader.years[docs].astype(np.int64)) if len(docs) else np.zeros(0, np.int64)
    by_year = {(int(y) or None): int(years[y]) for y in np.flatnonzero(years)}
    out = {"year": _ordered(by_year)}
    for name, table in (("section", "top"), ("region", "region")):
        counts = reader.code_counts(table, table, docs)
        out[name] = _ordered({(k or "(none)"): v for k, v in counts.items()})
    return out


def _ordered(counts: dict) -> dict:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))
