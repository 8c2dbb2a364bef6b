"""Answering plans from the current set of indexes of a cluster: a plan
compiled to one MATCH expression, exact totals (``total_found``) and facets
from Sphinx, candidates ranked by :mod:`.score`, passages from stored rows.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ... import ranking, schema
from ..base import Outcome
from ...model import Passage
from ...plan import All, Any, Exclude, Filter, Form, Phrase, Plan, Soft, Term, YearForm
from ...text import CJK_RE, atom_pattern, atoms, normalize_text
from .cluster import BATCH_QUERIES, RETRY_WAITS, Cluster, SphinxError, incomplete, is_meta, passage_id_number, quote, token
from .score import Context, Row, gapped, node_score, plan_nodes, replace_node, root_soft

#: Rank every match exactly when there are at most this many; otherwise the
#: best CANDIDATES by Sphinx's expression ranker.
EXACT_LIMIT = 2000
CANDIDATES = 1000
#: A pre-ordering of candidates: the query's words present, per field weight, then BM25.
_RANKER = ("ranker=expr('sum(word_count*user_weight)*1000+bm25'), "
           "field_weights=(content=10, grams=8, title=5, section_words=10, section=20, keywords=30, key_terms=10)")


class SphinxEngine:
    """Answers plans from the current set of indexes of a cluster."""

    name = "sphinx"

    def __init__(self, url: str, gen: Path, manifest: dict):
        self.cluster = Cluster(url)
        slot = (manifest.get("sphinx") or {}).get("slot")
        if slot not in self.cluster.layout.get("slots", {}):
            raise SphinxError(f"the index was not built on this Sphinx cluster; rebuild it with --engine {url}")
        owner = self.cluster.owner()
        if owner and owner != os.path.realpath(gen.parent):
            raise SphinxError(f"the Sphinx cluster of {self.cluster.file} now holds the index at {owner}; "
                              "rebuild this one on a cluster of its own")
        self.index = self.cluster.slot(slot)["index"]
        self._stats = None
        self._df: dict = {}
        self._records: dict = {}  # the rows of the last search, for its page and its explanation
        self.partial = False  # set when a count of the last search came from part of the index

    # -- statistics

    def stats(self) -> dict:
        """Live passages, years present and average field lengths (for BM25),
        cached once they come from the whole index (else :attr:`partial`)."""
        if self._stats is not None:
            return self._stats
        sums = ", ".join(f"SUM(len_{name})" for name in schema.FIELDS)
        (row,), meta, years, meta2 = self._query_complete(
            f"SELECT COUNT(*), {sums} FROM {self.index}; SHOW META; "
            f"SELECT year, COUNT(*) FROM {self.index} GROUP BY year ORDER BY year ASC LIMIT 10000 "
            "OPTION max_matches=10000; SHOW META")
        count = int(row[0])
        stats = {"count": count, "avg": {n: int(v or 0) / max(count, 1) for n, v in zip(schema.FIELDS, row[1:])},
                 "years": {int(y): int(n) for y, n in years}}
        if incomplete(meta) or incomplete(meta2):
            self.partial = True
            return stats
        self._stats = stats
        return stats

    def _dfs(self, expressions: list[str]) -> dict[str, int]:
        """Document frequencies of MATCH expressions (``total_found``), cached.
        Asked in batches; a count that came from part of the index (an agent
        did not answer) is asked again after a wait, and if it never comes
        whole, :attr:`partial` is set."""
        for wait in (*RETRY_WAITS, None):
            missing = [e for e in dict.fromkeys(expressions) if e not in self._df]
            for start in range(0, len(missing), BATCH_QUERIES // 2):  # searchd takes 32 statements a batch
                chunk = missing[start : start + BATCH_QUERIES // 2]
                sql = "; ".join(f"SELECT id FROM {self.index} WHERE MATCH(%s) LIMIT 1; SHOW META" for _ in chunk)
                for expression, meta in zip(chunk, self.cluster.query(sql, tuple(chunk))[1::2]):
                    if not incomplete(meta):
                        self._df[expression] = int(dict(meta).get("total_found", 0))
            if all(e in self._df for e in expressions) or wait is None:
                break
            time.sleep(wait)
        self.partial = self.partial or not all(e in self._df for e in expressions)
        return {e: self._df.get(e, 1) for e in expressions}

    # -- compiling a plan to MATCH

    def match(self, node) -> str:
        if isinstance(node, Term):
            return "(" + " | ".join(self._form(f) for f in node.forms) + ")"
        if isinstance(node, Phrase):
            return self._sequence(node.text)
        if isinstance(node, Filter):
            return self._filter(node)
        if isinstance(node, Soft):
            required = [n for n in node.items if not getattr(n, "optional", False)] or list(node.items)
            return "(" + " | ".join(self.match(n) for n in required) + ")"
        if isinstance(node, Any):
            return "(" + " | ".join(self.match(n) for n in node.items) + ")"
        if isinstance(node, All):
            positive = [self.match(n) for n in node.items if not isinstance(n, Exclude)]
            negative = [f"-{self.match(n.item)}" for n in node.items if isinstance(n, Exclude)]
            return "(" + " ".join((positive or ["(@tags all)"]) + negative) + ")"
        if isinstance(node, Exclude):
            return f"((@tags all) -{self.match(node.item)})"
        raise TypeError(f"not a plan node: {node!r}")

    def _form(self, form) -> str:
        if isinstance(form, YearForm):
            return f"(@tags y{form.year})"
        parts = [f"(@(content,title,section_words) {quote(form.text)})",
                 f"(@(section,keywords,key_terms) {token('k', form.text)})"]
        if atoms(form.text):
            parts.append(self._sequence(form.text))
        return " | ".join(parts)

    def _sequence(self, norm: str) -> str:
        """Documents holding the atoms of ``norm`` in a row (runs between
        punctuation each as a phrase of bigrams; gaps are checked on the text)."""
        runs, current, last = [], [], None
        for atom, start, end in atoms(norm):
            if last is not None and start != last:
                runs.append(current)
                current = []
            current.append(atom)
            last = end
        runs.append(current)
        out = []
        for run in runs:
            if len(run) > 1:
                out.append(f"(@grams {quote(' '.join(a + b for a, b in zip(run, run[1:])))})")
            elif CJK_RE.match(run[0]) and len(run[0]) == 1:
                out.append(f"((@content {quote(run[0])}) | (@grams {run[0]}*))")
            else:
                out.append(f"(@content {quote(run[0])})")
        return "(" + " ".join(out) + ")"

    def _filter(self, f: Filter) -> str:
        if f.field == "year":
            years = [y for y in self.stats()["years"] if y and (f.low is None or y >= f.low)
                     and (f.high is None or y <= f.high)]
            return "(@tags " + ("(" + " | ".join(f"y{y}" for y in years) + ")" if years else "ynever") + ")"
        if f.field == "region":
            return f"(@tags {token('r', f.value)})"
        if f.field == "doc":
            return f"(@tags {token('d', f.value)})"
        if f.field == "keyword":
            return "(@(keywords,key_terms) (" + " | ".join(token("k", v) for v in f.values) + "))"
        field = "section_words" if f.field == "section" else "title"
        words = f"(@{field} ({' '.join(quote(w) for w in f.words)}))"
        return f"({words} | (@section {token('k', f.value)}))" if f.field == "section" and f.value else words

    # -- searching

    def search(self, plan: Plan, need: int, facets: bool = False):
        if plan.root is None:
            return Outcome([], [], 0, 0, {} if facets else None)
        self.partial = False
        expression = self.match(plan.root)
        columns = "id, year, doc_id, ordinal, record, tokens"
        facet_sql = " FACET year LIMIT 10000 FACET top_section LIMIT 10000 FACET region LIMIT 10000" if facets else ""
        sql = (f"SELECT {columns} FROM {self.index} WHERE MATCH(%s) ORDER BY WEIGHT() DESC, id ASC "
               f"LIMIT {max(EXACT_LIMIT, need)} OPTION {_RANKER}, max_matches={max(EXACT_LIMIT, need, 10000)}"
               f"{facet_sql}; SHOW META")
        sets = self._query_complete(sql, (expression,))
        rows, meta = sets[0], dict(sets[-1])
        total = int(meta.get("total_found", 0))
        partial = incomplete(sets[-1])
        docs = [Row(r) for r in rows]
        verified = [d for d in docs if self._verified(plan.root, d)]
        if len(verified) < len(docs):  # a phrase across punctuation, checked on the text
            total -= len(docs) - len(verified)
            docs = verified
            if total <= EXACT_LIMIT:  # every candidate was read: count the rest here
                self._df.update(self._verified_dfs(plan, docs))
                sets = [sets[0], *self._local_facets(docs), sets[-1]] if facets else sets
        scored = self._score(plan, docs)
        scored.sort(key=lambda s: (-s[0], -s[1], -(s[2].year or 0), s[2].doc_id, s[2].ordinal))
        window = scored[:need]
        out_facets = self._facets(sets[1:-1]) if facets else None
        self._records = {d.id: d for d in docs}
        return Outcome([s[2].id for s in window], [s[1] for s in window], total,
                       self._total_all_terms(plan, total, scored), out_facets, partial or self.partial)

    def _query_complete(self, sql: str, params=None):
        """Run statements ending with ``SHOW META``; when an agent did not
        answer, wait for the cluster to notice (its pings) and try once more
        before answering with the partial result."""
        for wait in RETRY_WAITS:
            sets = self.cluster.query(sql, params)
            if not any(incomplete(rows) for rows in sets if is_meta(rows)):
                return sets
            time.sleep(wait)
        return self.cluster.query(sql, params)

    def _verified(self, node, doc) -> bool:
        """Whether the phrases of ``node`` with gaps really hold in the text."""
        phrases = [n for n in plan_nodes(node) if isinstance(n, Phrase) and not n.optional and gapped(n.text)]
        return all(atom_pattern(p.text).search(doc.atom_text) for p in phrases)

    def _verified_dfs(self, plan: Plan, docs: list) -> dict:
        """Document frequencies of the gapped phrases of ``plan`` among verified candidates
        (a whole match set: what Sphinx's own count of the phrase's runs overstates)."""
        texts = {n.text for n in plan_nodes(plan.root) if isinstance(n, Phrase) and gapped(n.text)}
        return {self._sequence(t): sum(1 for d in docs if d.tf("grams", t)) for t in texts}

    @staticmethod
    def _local_facets(docs: list) -> list:
        """Facet rows (as Sphinx gives them) counted over ``docs``."""
        rows = []
        for key in (lambda d: d.year or 0, lambda d: d.record["section_path"][0] if d.record["section_path"] else "",
                    lambda d: normalize_text(d.record["region"] or "")):
            counts: dict = {}
            for d in docs:
                counts[key(d)] = counts.get(key(d), 0) + 1
            rows.append(list(counts.items()))
        return rows

    def _total_all_terms(self, plan: Plan, total: int, scored) -> int:
        soft = root_soft(plan.root)
        if soft is None:
            return total
        if total <= EXACT_LIMIT:
            return sum(1 for s in scored if s[0] >= 1.0 - 1e-9)
        required = [n for n in soft.items if not getattr(n, "optional", False)]
        replaced = replace_node(plan.root, soft, All(tuple(required)))
        (meta,) = self.cluster.query(f"SELECT id FROM {self.index} WHERE MATCH(%s) LIMIT 1; SHOW META",
                                     (self.match(replaced),))[1:]
        return int(dict(meta).get("total_found", 0))

    def _facets(self, sets) -> dict:
        names = ("year", "section", "region")
        out = {name: {} for name in names}
        for name, rows in zip(names, sets):
            counts = {}
            for value, n in rows:
                key = (int(value) or None) if name == "year" else (value or "(none)")
                counts[key] = counts.get(key, 0) + int(n)
            out[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))))
        return out

    # -- scoring, as the embedded engine does

    def _score(self, plan: Plan, docs: list) -> list:
        """``(coordination, score, doc)`` of each doc, by the formula of :mod:`erqi_search.ranking`."""
        stats = self.stats()
        forms = {f.text for t in plan.terms() for f in t.forms if isinstance(f, Form)}
        forms |= {n.text for n in plan_nodes(plan.root) if isinstance(n, Phrase)}
        expressions = {}
        for text in forms:
            for field in ranking.FIELD_WEIGHTS:
                expressions[(field, text)] = (f"@{field} {quote(text)}" if schema.FIELDS[field] == "words"
                                              else f"@{field} {token('k', text)}")
            if atoms(text):
                expressions[("grams", text)] = self._sequence(text)
        dfs = self._dfs(list(expressions.values()))
        context = Context(stats, {key: dfs[e] for key, e in expressions.items()})
        out = []
        for doc in docs:
            score, coord = node_score(plan.root, doc, context)
            out.append((round(coord, 9), round(score, ranking.SCORE_DECIMALS), doc))
        return out

    def explain(self, plan: Plan, ids: list[int]) -> list[list[dict]]:
        docs = self._rows(ids)
        out = []
        for doc in docs:
            found = []
            for term in plan.terms():
                for form in term.forms:
                    fields = (["year"] if isinstance(form, YearForm) and doc.year == form.year else
                              [] if isinstance(form, YearForm) else doc.fields_with(form.text))
                    if fields:
                        found.append({"term": term.label, "form": getattr(form, "text", str(getattr(form, "year", ""))),
                                      "origin": form.origin, "weight": form.weight, "fields": fields})
            out.append(found)
        return out

    # -- browsing

    def _rows(self, ids: list[int]) -> list:
        missing = [int(i) for i in ids if i not in self._records]
        if missing:
            rows = self.cluster.query(f"SELECT id, year, doc_id, ordinal, record, tokens FROM {self.index} "
                                      f"WHERE id IN ({', '.join(map(str, missing))}) LIMIT {len(missing)}")[0]
            self._records = {**self._records, **{d.id: d for d in map(Row, rows)}}
        return [self._records[i] for i in ids if i in self._records]

    def passages(self, ids: list[int]) -> list[Passage]:
        return [d.passage() for d in self._rows(ids)]

    def find_passage(self, passage_id: str):
        found = self.passages([passage_id_number(passage_id)])
        return found[0] if found and found[0].passage_id == passage_id else None

    def document(self, doc_id: str) -> list[Passage]:
        rows = self.cluster.query(f"SELECT id, year, doc_id, ordinal, record, tokens FROM {self.index} "
                                  "WHERE doc_id = %s ORDER BY ordinal ASC LIMIT 10000 OPTION max_matches=10000",
                                  (doc_id,))[0]
        return [Row(r).passage() for r in rows]

    def all_passages(self):
        last = 0
        while True:
            rows = self.cluster.query(f"SELECT id, year, doc_id, ordinal, record, tokens FROM {self.index} "
                                      f"WHERE id > {last} ORDER BY id ASC LIMIT 1000")[0]
            if not rows:
                return
            yield from (Row(r).passage() for r in rows)
            last = rows[-1][0]

    def doc_frequency(self, term: str, field: str = "content") -> int:
        expression = f"@{field} {quote(term)}"
        return self._dfs([expression])[expression]

    def year_totals(self) -> dict[int, int]:
        return {y: n for y, n in self.stats()["years"].items() if y}

    @property
    def passage_count(self) -> int:
        return self.stats()["count"]

    def close(self) -> None:
        self.cluster.close()

