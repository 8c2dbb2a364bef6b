"""A Sphinx cluster as ``scripts/sphinx-cluster`` describes it: its layout,
connections to its nodes (the URL's first, then any that answers), and the
claim of the one index it holds.

>>> passage_id_number("000_7ff3adef1ce2c60f#001") > 0
True
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from ...errors import ErqiSearchError

#: Statements searchd answers in one batch (its max_batch_queries).
BATCH_QUERIES = 32
#: Seconds to wait before asking again when an agent did not answer: a node
#: that just stopped is skipped for its mirror once searchd's pings notice.
RETRY_WAITS = (0.2, 0.4, 0.6)
_SPECIAL = re.compile(r'([\\()|\-!@~"&/^$=<])')


class SphinxError(ErqiSearchError):
    """The cluster cannot be reached, refused a statement, or is not laid out as expected."""


def token(kind: str, value: str) -> str:
    """A value as one token the engine will not split: a kind letter and a hash."""
    return kind + hashlib.blake2b(value.encode("utf-8"), digest_size=6).hexdigest()


def passage_id_number(passage_id: str) -> int:
    """The 63-bit document id of a passage (stable across writes and engines)."""
    return int.from_bytes(hashlib.blake2b(passage_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1 or 1


def quote(text: str) -> str:
    return '"' + _SPECIAL.sub(r"\\\1", text) + '"'


def sql_string(value: str) -> str:
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


def is_meta(rows) -> bool:
    """Whether a result set is ``SHOW META``'s (name, value rows; a warning may come first)."""
    return bool(rows) and all(len(r) == 2 for r in rows) and any(r[0] in ("total", "warning") for r in rows)


def incomplete(meta) -> bool:
    """Whether ``SHOW META`` rows carry a warning about an agent (a shard that did not answer)."""
    return "agent" in str(dict(meta).get("warning", ""))

