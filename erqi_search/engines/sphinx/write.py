"""Writing passages into a cluster: one row per passage (its token fields,
tags, stored record and tokens), sent in batches to the passage's shard on
every node holding it; a rebuild fills the set of indexes searches do not read.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from ... import schema
from .cluster import Cluster, SphinxError, passage_id_number, sql_string, token

#: Rows per INSERT (measured: cost grows faster than the rows beyond 200).
BATCH = 100
FIELDS_OF_TOKENS = [name for name, kind in schema.FIELDS.items() if kind != "grams"]


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
            values = "(" + ", ".join(str(row[c]) if isinstance(row[c], int) else sql_string(row[c])
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

