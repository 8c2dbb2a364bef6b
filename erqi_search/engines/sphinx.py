"""The Sphinx engine: the same search on a Sphinx 2.2 or Manticore cluster,
over SphinxQL (the MySQL protocol, through PyMySQL).

The engine splits on white space only: every field holds erqi-search's own
tokens (words; bigrams with a ``,`` phrase boundary wherever two atoms are
not adjacent; keyword fields and tags as hashed tokens), so segmentation,
the policy dictionary, synonyms, aliases and the query syntax are the
embedded engine's. Sphinx finds the matching passages, counts them (exactly:
``total_found``) and their facets; the ranking is computed here with the
embedded engine's formula (:mod:`erqi_search.ranking`) from the tokens each
passage stores, over collection statistics Sphinx counts for the whole
cluster (its own IDF is per shard), so scores equal the embedded engine's
for the candidates it ranks: every match when there are at most
:data:`EXACT_LIMIT`, else Sphinx's best :data:`CANDIDATES` by an expression
ranker that puts passages with more of the query first.

A cluster is described by the ``cluster.json`` that ``scripts/sphinx-cluster``
writes (nodes, shards and their copies, two sets of indexes): the engine URL
is ``sphinx://HOST:PORT?cluster=/path/cluster.json``. Writes go to each
shard's index on every node holding it (Sphinx cannot write through a
distributed index); a rebuild fills the set of indexes searches are not
reading and the store's manifest switches to it. A query that reached a dead
agent still answers: the warning in ``SHOW META`` marks it ``partial``.

See docs/scaling.md for deployment on Manticore and what was verified.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from .. import ranking, schema
from .base import Outcome
from ..errors import ErqiSearchError
from ..model import Passage
from ..plan import All, Any, Exclude, Filter, Form, Phrase, Plan, Soft, Term, YearForm
from ..text import ADJACENT, APART, CJK_RE, atom_pattern, atom_text, atoms, normalize_text

#: Rank every match exactly when there are at most this many; otherwise the
#: best CANDIDATES by Sphinx's expression ranker.
EXACT_LIMIT = 2000
CANDIDATES = 1000
#: Rows per INSERT (measured: cost grows faster than the rows beyond 200).
BATCH = 100
#: Statements searchd answers in one batch (its max_batch_queries).
BATCH_QUERIES = 32
#: Seconds to wait before asking again when an agent did not answer: a node
#: that just stopped is skipped for its mirror once searchd's pings notice.
RETRY_WAITS = (0.2, 0.4, 0.6)
FIELDS_OF_TOKENS = [name for name, kind in schema.FIELDS.items() if kind != "grams"]
_SPECIAL = re.compile(r'([\\()|\-!@~"&/^$=<])')
#: A pre-ordering of candidates: the query's words present, per field weight, then BM25.
_RANKER = ("ranker=expr('sum(word_count*user_weight)*1000+bm25'), "
           "field_weights=(content=10, grams=8, title=5, section_words=10, section=20, keywords=30, key_terms=10)")


class SphinxError(ErqiSearchError):
    """The cluster cannot be reached, refused a statement, or is not laid out as expected."""


def token(kind: str, value: str) -> str:
    """A value as one token the engine will not split: a kind letter and a hash."""
    return kind + hashlib.blake2b(value.encode("utf-8"), digest_size=6).hexdigest()


def passage_id_number(passage_id: str) -> int:
    """The 63-bit document id of a passage (stable across writes and engines)."""
    return int.from_bytes(hashlib.blake2b(passage_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1 or 1


def _quote(text: str) -> str:
    return '"' + _SPECIAL.sub(r"\\\1", text) + '"'


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _names_cluster(index_dir: Path, cluster_file: Path) -> bool:
    """Whether the index at ``index_dir`` still exists and was built on ``cluster_file``'s cluster."""
    try:
        manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    named = (manifest.get("sphinx") or {}).get("cluster")
    return bool(named) and os.path.realpath(named) == os.path.realpath(cluster_file)


class Cluster:
    """The cluster a URL names: its layout, and connections to its nodes."""

    def __init__(self, url: str):
        parsed = urlparse(url)
        found = parse_qs(parsed.query).get("cluster")
        if parsed.scheme != "sphinx" or not parsed.hostname or not found:
            raise SphinxError(f"engine {url!r} must look like sphinx://HOST:PORT?cluster=/path/cluster.json "
                              "(scripts/sphinx-cluster up prints one)")
        try:
            self.layout = json.loads(Path(found[0]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise SphinxError(f"cannot read the cluster description {found[0]}: {err}") from None
        self.url = url
        self.file = Path(found[0])
        self.front = (parsed.hostname, parsed.port or 9306)
        self._conn = None

    @property
    def owner_file(self) -> Path:
        """Names the index directory whose data the cluster holds (beside the cluster file)."""
        return self.file.with_name(self.file.stem + ".owner")

    def owner(self) -> str | None:
        try:
            return self.owner_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def claim(self, index_dir: Path) -> None:
        """Make ``index_dir`` the cluster's index. One cluster holds one index:
        writing another one into it would empty the first, so that is refused
        while the first still exists and still names this cluster."""
        mine = os.path.realpath(index_dir)
        owner = self.owner()
        if owner and owner != mine and _names_cluster(Path(owner), self.file):
            raise SphinxError(f"the Sphinx cluster of {self.file} holds the index at {owner}; one cluster holds "
                              "one index: start another cluster for this one, or delete that index first")
        temp = self.owner_file.with_name(self.owner_file.name + ".tmp")
        try:
            temp.write_text(mine + "\n", encoding="utf-8")
            os.replace(temp, self.owner_file)
        except OSError as err:
            raise SphinxError(f"cannot record the index's claim on the cluster in {self.owner_file}: "
                              f"{err.strerror or err}") from None

    def nodes(self):
        """``(name, host, port)`` of every node, the URL's own first."""
        nodes = [(name, n["host"], n["sql_port"]) for name, n in self.layout["nodes"].items()]
        return sorted(nodes, key=lambda n: (n[1], n[2]) != self.front)

    def connect(self, host: str, port: int):
        import pymysql

        return pymysql.connect(host=host, port=port, user="", charset="utf8mb4", autocommit=True,
                               connect_timeout=3, read_timeout=60, write_timeout=60)

    def reader(self):
        """A connection to a live node (the URL's, or the next that answers)."""
        if self._conn is not None:
            return self._conn
        errors = []
        for name, host, port in self.nodes():
            try:
                self._conn = self.connect(host, port)
                return self._conn
            except Exception as err:  # noqa: BLE001 - try the next node
                errors.append(f"{name}: {err}")
        raise SphinxError(f"no node of the Sphinx cluster answers ({'; '.join(errors)})")

    def query(self, sql: str, params=None) -> list[tuple[list, dict]]:
        """Run statements (``;``-separated, each result set read); a broken
        connection is retried once on the next node."""
        for attempt in (0, 1):
            try:
                cursor = self.reader().cursor()
                cursor.execute(sql, params)
                sets = [list(cursor.fetchall())]
                while cursor.nextset():
                    sets.append(list(cursor.fetchall()))
                return sets
            except Exception as err:  # noqa: BLE001
                self._conn = None
                if attempt or "1064" in str(err):
                    raise SphinxError(f"the Sphinx cluster refused a query: {str(err).strip(chr(0))}") from None
        raise AssertionError("unreachable")

    def slot(self, name: str) -> dict:
        return self.layout["slots"][name]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# ------------------------------------------------------------------ writing

def passage_row(analyzed, doc_id: str) -> dict:
    """The row of one passage: its token fields, tags and stored record."""
    p = analyzed.passage
    f = analyzed.fields
    row = {name: " ".join(f.get(name, ())) for name in ("content", "title", "section_words")}
    for name in ("section", "keywords", "key_terms"):
        row[name] = " ".join(token("k", v) for v in f.get(name, ()))
    row["grams"] = _grams_text(f.get("grams", ()))
    tags = ["all", f"y{p.year}" if p.year else "ynone"]
    if analyzed.region:
        tags.append(token("r", analyzed.region))
    tags += [token("d", doc_id[:i]) for i in range(1, min(len(doc_id), 64) + 1)]
    row["tags"] = " ".join(tags)
    row.update(
        year=p.year or 0, doc_id=doc_id, ordinal=p.ordinal,
        top_section=p.section_path[0] if p.section_path else "", region=analyzed.region,
        record=json.dumps({"title": p.title, "date": p.date, "region": p.region, "source": p.source,
                           "section_path": list(p.section_path), "keywords": list(p.keywords),
                           "key_terms": list(p.key_terms), "text": p.text, "span": list(p.span)},
                          ensure_ascii=False, separators=(",", ":")),
        tokens=json.dumps({name: list(f.get(name, ())) for name in FIELDS_OF_TOKENS}, ensure_ascii=False,
                          separators=(",", ":")),
    )
    for name in schema.FIELDS:
        row[f"len_{name}"] = len(f.get(name, ()))
    return row


def _grams_text(pairs) -> str:
    """Bigram tokens in position order, a ``,`` boundary where positions jump."""
    out, last = [], None
    for pair, pos in sorted(pairs, key=lambda p: p[1]):
        if last is not None and pos != last + 1:
            out.append(",")
        out.append(pair)
        last = pos
    return " ".join(out)


_COLUMNS = (["id", *schema.FIELDS, "tags", "year", "doc_id", "ordinal", "top_section", "region", "record", "tokens"]
            + [f"len_{name}" for name in schema.FIELDS])


class SphinxPartition:
    """Writes one worker's reports into a set of indexes (picklable until used)."""

    def __init__(self, url: str, slot: str):
        self.url, self.slot = url, slot
        self._cluster = None
        self._rows: dict[int, list[str]] = {}
        self.count = 0

    def add(self, report, analyzed: list) -> None:
        if self._cluster is None:
            self._cluster = Cluster(self.url)
        shards = self._cluster.layout["shards"]
        for a in analyzed:
            row = passage_row(a, report.doc_id)
            row["id"] = passage_id_number(a.passage.passage_id)
            values = "(" + ", ".join(str(row[c]) if isinstance(row[c], int) else _sql_string(row[c])
                                     for c in _COLUMNS) + ")"
            self._rows.setdefault(row["id"] % shards, []).append(values)
            self.count += 1
        for shard in [s for s, rows in self._rows.items() if len(rows) >= BATCH]:
            self._flush(shard)

    def _flush(self, shard: int) -> None:
        rows = self._rows.pop(shard, [])
        if rows:
            write_shard(self._cluster, self.slot, shard, f"REPLACE INTO {{index}} ({', '.join(_COLUMNS)}) VALUES "
                        + ", ".join(rows))

    def finish(self) -> list:
        for shard in list(self._rows):
            self._flush(shard)
        if self._cluster is not None:
            self._cluster.close()
        return [{"slot": self.slot, "passages": self.count}]


def write_shard(cluster: Cluster, slot: str, shard: int, sql: str, params=None) -> None:
    """Run a write on the shard's index on every node holding it: a copy that
    cannot be written is an error (the copies would differ)."""
    index = cluster.slot(slot)["shard_indexes"][str(shard)]
    for name in cluster.layout["shard_nodes"][str(shard)]:
        node = cluster.layout["nodes"][name]
        try:
            conn = cluster.connect(node["host"], node["sql_port"])
            try:
                conn.cursor().execute(sql.replace("{index}", index), params)
            finally:
                conn.close()
        except Exception as err:  # noqa: BLE001
            raise SphinxError(f"cannot write to node {name} of the Sphinx cluster ({str(err).strip(chr(0))}); "
                              "start it again and rebuild: every copy of a shard must take every write") from None


class SphinxWriter:
    """A write: a rebuild fills the set of indexes searches do not read (after
    emptying it) and the manifest then names it; an update changes the
    current set in place (deleting and adding whole reports, so a repeated
    update after an interruption converges)."""

    def __init__(self, url: str, gen: Path, base: Path | None, manifest: dict | None):
        self.url = url
        self.cluster = Cluster(url)
        current = ((manifest or {}).get("sphinx") or {}).get("slot")
        slots = sorted(self.cluster.layout["slots"])
        self.cluster.claim(gen.parent)
        if base is not None:
            if current is None:
                raise SphinxError("the index was not built with a Sphinx engine; rebuild it with --engine")
            self.slot = current
        else:
            self.slot = next((s for s in slots if s != current), slots[0])
            for shard in range(self.cluster.layout["shards"]):
                write_shard(self.cluster, self.slot, shard, "TRUNCATE RTINDEX {index}")

    def partition(self, i: int) -> SphinxPartition:
        return SphinxPartition(self.url, self.slot)

    def delete(self, doc_ids: set[str]) -> int:
        for doc_id in sorted(doc_ids):
            for shard in range(self.cluster.layout["shards"]):
                write_shard(self.cluster, self.slot, shard, "DELETE FROM {index} WHERE doc_id = %s", (doc_id,))
        return len(doc_ids)

    def commit(self, partitions: list) -> dict:
        self.cluster.close()
        cluster_file = parse_qs(urlparse(self.url).query)["cluster"][0]
        return {"segments": [], "manifest": {"sphinx": {"slot": self.slot, "cluster": cluster_file}}}


# ------------------------------------------------------------------ reading

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
        if _incomplete(meta) or _incomplete(meta2):
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
                    if not _incomplete(meta):
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
        parts = [f"(@(content,title,section_words) {_quote(form.text)})",
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
                out.append(f"(@grams {_quote(' '.join(a + b for a, b in zip(run, run[1:])))})")
            elif CJK_RE.match(run[0]) and len(run[0]) == 1:
                out.append(f"((@content {_quote(run[0])}) | (@grams {run[0]}*))")
            else:
                out.append(f"(@content {_quote(run[0])})")
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
        words = f"(@{field} ({' '.join(_quote(w) for w in f.words)}))"
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
        partial = _incomplete(sets[-1])
        docs = [_Doc(r) for r in rows]
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
            if not any(_incomplete(rows) for rows in sets if _is_meta(rows)):
                return sets
            time.sleep(wait)
        return self.cluster.query(sql, params)

    def _verified(self, node, doc) -> bool:
        """Whether the phrases of ``node`` with gaps really hold in the text."""
        phrases = [n for n in _nodes(node) if isinstance(n, Phrase) and not n.optional and _gapped(n.text)]
        return all(atom_pattern(p.text).search(doc.atom_text) for p in phrases)

    def _verified_dfs(self, plan: Plan, docs: list) -> dict:
        """Document frequencies of the gapped phrases of ``plan`` among verified candidates
        (a whole match set: what Sphinx's own count of the phrase's runs overstates)."""
        texts = {n.text for n in _nodes(plan.root) if isinstance(n, Phrase) and _gapped(n.text)}
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
        soft = _root_soft(plan.root)
        if soft is None:
            return total
        if total <= EXACT_LIMIT:
            return sum(1 for s in scored if s[0] >= 1.0 - 1e-9)
        required = [n for n in soft.items if not getattr(n, "optional", False)]
        replaced = _replace(plan.root, soft, All(tuple(required)))
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
        forms |= {n.text for n in _nodes(plan.root) if isinstance(n, Phrase)}
        expressions = {}
        for text in forms:
            for field in ranking.FIELD_WEIGHTS:
                expressions[(field, text)] = (f"@{field} {_quote(text)}" if schema.FIELDS[field] == "words"
                                              else f"@{field} {token('k', text)}")
            if atoms(text):
                expressions[("grams", text)] = self._sequence(text)
        dfs = self._dfs(list(expressions.values()))
        context = _Context(stats, {key: dfs[e] for key, e in expressions.items()})
        out = []
        for doc in docs:
            score, coord = _node_score(plan.root, doc, context)
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
            self._records = {**self._records, **{d.id: d for d in map(_Doc, rows)}}
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
        return [_Doc(r).passage() for r in rows]

    def all_passages(self):
        last = 0
        while True:
            rows = self.cluster.query(f"SELECT id, year, doc_id, ordinal, record, tokens FROM {self.index} "
                                      f"WHERE id > {last} ORDER BY id ASC LIMIT 1000")[0]
            if not rows:
                return
            yield from (_Doc(r).passage() for r in rows)
            last = rows[-1][0]

    def doc_frequency(self, term: str, field: str = "content") -> int:
        expression = f"@{field} {_quote(term)}"
        return self._dfs([expression])[expression]

    def year_totals(self) -> dict[int, int]:
        return {y: n for y, n in self.stats()["years"].items() if y}

    @property
    def passage_count(self) -> int:
        return self.stats()["count"]

    def close(self) -> None:
        self.cluster.close()


class _Doc:
    """A row: the passage's attributes, stored record and tokens."""

    def __init__(self, row):
        self.id, self.year, self.doc_id, self.ordinal = int(row[0]), int(row[1]) or None, row[2], int(row[3])
        self.record = json.loads(row[4])
        self.tokens = json.loads(row[5])
        self.counts = {name: _counter(tokens) for name, tokens in self.tokens.items()}
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


def _is_meta(rows) -> bool:
    """Whether a result set is ``SHOW META``'s (name, value rows; a warning may come first)."""
    return bool(rows) and all(len(r) == 2 for r in rows) and any(r[0] in ("total", "warning") for r in rows)


def _incomplete(meta) -> bool:
    """Whether ``SHOW META`` rows carry a warning about an agent (a shard that did not answer)."""
    return "agent" in str(dict(meta).get("warning", ""))


def _counter(tokens) -> dict:
    counts: dict = {}
    for t in tokens:
        counts[t] = counts.get(t, 0) + 1
    return counts


class _Context:
    def __init__(self, stats: dict, dfs: dict):
        self.n = max(stats["count"], 1)
        self.avg = stats["avg"]
        self.dfs = dfs

    def bm25(self, field: str, text: str, doc: _Doc, weight: float) -> float:
        tf = doc.tf(field, text)
        if not tf:
            return 0.0
        idf = ranking.idf(self.dfs.get((field, text), 1), self.n)
        return weight * ranking.bm25(idf, tf, doc.length(field), self.avg[field])


def _node_score(node, doc: _Doc, ctx: _Context) -> tuple[float, float]:
    """``(score, coordination)`` of a document for a plan node (coordination
    is the share of a soft AND's items present, 1 elsewhere)."""
    if isinstance(node, Term):
        return max((_form_score(f, doc, ctx) for f in node.forms), default=0.0), 1.0
    if isinstance(node, Phrase):
        return ctx.bm25("grams", node.text, doc, ranking.QUOTED_PHRASE_WEIGHT * node.weight), 1.0
    if isinstance(node, (Filter, Exclude)):
        return 0.0, 1.0
    if isinstance(node, Soft):
        required = [n for n in node.items if not getattr(n, "optional", False)] or list(node.items)
        optional = [n for n in node.items if getattr(n, "optional", False) and n not in required]
        scores = [_node_score(n, doc, ctx)[0] for n in required]
        present = sum(1 for n in required if _matches(n, doc))
        extra = sum((ranking.OPTIONAL_WEIGHT if isinstance(n, Term) else 1.0) * _node_score(n, doc, ctx)[0]
                    for n in optional)
        coord = present / len(required)
        return sum(scores) + extra + ranking.COORD_BONUS * coord, coord
    parts = [_node_score(n, doc, ctx) for n in node.items if not isinstance(n, Exclude)]
    coords = [c for n, (_, c) in zip([n for n in node.items if not isinstance(n, Exclude)], parts)
              if isinstance(n, Soft)]
    return sum(s for s, _ in parts), (coords[0] if coords and isinstance(node, All) else 1.0)


def _form_score(form, doc: _Doc, ctx: _Context) -> float:
    if isinstance(form, YearForm):
        return form.weight if doc.year == form.year else 0.0
    score = sum(ctx.bm25(field, form.text, doc, w * form.weight) for field, w in ranking.FIELD_WEIGHTS.items())
    if atoms(form.text):
        score += ctx.bm25("grams", form.text, doc, ranking.GRAMS_WEIGHT * form.weight)
    return score


def _matches(node, doc: _Doc) -> bool:
    """Whether a document matches a plan node (the coordination's "present")."""
    if isinstance(node, Term):
        return any(doc.year == f.year if isinstance(f, YearForm) else bool(doc.fields_with(f.text)) for f in node.forms)
    if isinstance(node, Phrase):
        return doc.tf("grams", node.text) > 0
    if isinstance(node, Filter):
        return _filter_matches(node, doc)
    if isinstance(node, Exclude):
        return not _matches(node.item, doc)
    if isinstance(node, All):
        return all(_matches(n, doc) for n in node.items)
    required = [n for n in node.items if not getattr(n, "optional", False)] or list(node.items)
    return any(_matches(n, doc) for n in required)


def _filter_matches(f: Filter, doc: _Doc) -> bool:
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


def _nodes(node):
    if node is None:
        return
    yield node
    if isinstance(node, Exclude):
        return
    for item in getattr(node, "items", ()):
        yield from _nodes(item)


def _gapped(text: str) -> bool:
    found = atoms(text)
    return any(a[2] != b[1] for a, b in zip(found, found[1:]))


def _root_soft(node):
    if isinstance(node, Soft):
        return node
    if isinstance(node, All):
        softs = [n for n in node.items if isinstance(n, Soft)]
        return softs[0] if len(softs) == 1 else None
    return None


def _replace(node, old, new):
    if node is old:
        return new
    if isinstance(node, All):
        return All(tuple(_replace(n, old, new) for n in node.items))
    return node

