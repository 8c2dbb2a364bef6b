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

Modules: :mod:`.cluster` (the layout, connections, the index's claim),
:mod:`.write` (rows, bulk loading into every copy of a shard), :mod:`.engine`
(MATCH, exact counts, facets, browsing) and :mod:`.score` (the ranking
formula over the tokens a row stores).
"""

from .cluster import Cluster, SphinxError, passage_id_number, token
from .engine import SphinxEngine
from .write import SphinxWriter

__all__ = ["Cluster", "SphinxEngine", "SphinxError", "SphinxWriter", "passage_id_number", "token"]
