"""The engine seam: what the rest of erqi-search asks of an inverted index.

The query layer hands an engine a :class:`~erqi_search.plan.Plan`; the engine
answers with the ranked page window, the exact totals and the facets in one
call (:class:`Outcome`), gives stored passages back, answers lexicon
look-ups, and takes writes. Everything else (the manifest, generations and
lock, figures, the query dictionary, aliases) is the store's
(:mod:`erqi_search.store`), the same whatever the engine.

An engine (reading)::

    search(plan, need, facets) -> Outcome   # ids: the engine's own document ids
    explain(plan, ids) -> per id, the forms it matched: term, form, origin, weight, fields
    passages(ids) -> list[Passage]
    find_passage(passage_id) -> Passage | None
    document(doc_id) -> list[Passage]       # a report's passages, in order
    all_passages() -> Iterator[Passage]
    doc_frequency(term, field="content") -> int   # how common a word (or a "grams" pair) is
    year_totals() -> dict[int, int]         # live passages per year
    passage_count: int
    close()

A writer (one per write; build, update and rebuild share it)::

    partition(i) -> a picklable partition writer: add(report, analyzed), finish() -> written
    delete(doc_ids) -> int                  # reports to remove (an update)
    commit([written, ...])                  # partitions in file order

Engines: ``embedded`` (the default; Whoosh segments with packed postings,
evaluated in this process with numpy) and ``sphinx://HOST:PORT`` (a Sphinx or
Manticore cluster over SphinxQL, :mod:`.sphinx`).

>>> engine_kind(None), engine_kind("sphinx://127.0.0.1:9306")
('embedded', 'sphinx')
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import Outcome  # noqa: F401 - what every engine's search returns

ENV_ENGINE = "ERQI_SEARCH_ENGINE"


def engine_kind(url: str | None) -> str:
    """``embedded`` or ``sphinx`` for an engine URL (``None``: the embedded one)."""
    if not url or url == "embedded":
        return "embedded"
    if url.startswith("sphinx://"):
        return "sphinx"
    from ..errors import InvalidArgument

    raise InvalidArgument(f"unknown engine {url!r}; use embedded or sphinx://HOST:PORT")


def default_engine() -> str | None:
    """``$ERQI_SEARCH_ENGINE`` (None: embedded)."""
    return os.environ.get(ENV_ENGINE) or None


def open_engine(url: str | None, gen: Path, manifest: dict):
    """The engine reading the generation ``gen`` of a store."""
    if engine_kind(url) == "embedded":
        from .embedded import EmbeddedEngine

        return EmbeddedEngine(gen)
    from .sphinx import SphinxEngine

    return SphinxEngine(url, gen, manifest)


def engine_writer(url: str | None, gen: Path, base: Path | None, manifest: dict | None):
    """The writer filling generation ``gen`` (from generation ``base`` for an update)."""
    if engine_kind(url) == "embedded":
        from .embedded import EmbeddedWriter

        return EmbeddedWriter(gen, base)
    from .sphinx import SphinxWriter

    return SphinxWriter(url, gen, base, manifest)
