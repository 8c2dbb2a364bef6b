"""What every engine returns (a leaf module: engines import it, it imports nothing of ours)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Outcome:
    """What an engine's ``search`` returns: the ranked documents of the page
    window (the engine's ids) and their scores, the exact totals (every
    match; those matching every term of a soft AND), the facets when asked,
    and whether part of a distributed index did not answer."""

    docs: list
    scores: list[float]
    total: int
    total_all_terms: int
    facets: dict | None
    partial: bool = False
