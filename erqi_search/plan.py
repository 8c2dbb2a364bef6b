"""The engine-neutral query plan: what the query layer hands to an engine.

A plan is a small tree. Its leaves say *what* to match, never *how*:

* :class:`Term`: one concept of the query (a word the user typed) with the
  forms it may take (the typed form, synonyms, variants, aliases), each with
  a weight; a passage matches when any form occurs in any searchable field
  or verbatim in its text, and the best form counts;
* :class:`Phrase`: an exact sequence of atoms (``"临时党支部"``);
* :class:`Filter`: a field restriction (``year:``, ``section:`` ...).

Inner nodes combine them: :class:`Soft` (the default for words side by side:
every passage with some of them matches, those with more rank first),
:class:`All` (``AND``), :class:`Any` (``OR``) and :class:`Exclude` (``NOT``).
A leaf module: it imports nothing of ours.

>>> plan = Plan(Soft((Term("大气污染", (Form("大气污染"),)), Term("2018", (Form("2018"), YearForm(2018))))))
>>> [t.label for t in plan.terms()]
['大气污染', '2018']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Union


@dataclass(frozen=True)
class Form:
    """One way a concept may be written: normalised ``text``, its ``weight``
    relative to the typed form, and where it came from (``typed``,
    ``synonym``, ``alias``, ``part``: a known part of a word the corpus never uses)."""

    text: str
    weight: float = 1.0
    origin: str = "typed"


@dataclass(frozen=True)
class YearForm:
    """A four-digit year typed as a word also matches passages of that year."""

    year: int
    weight: float = 1.0
    origin: str = "year"


@dataclass(frozen=True)
class Term:
    """A concept: matches where any form matches; the best form's score counts.

    ``optional`` terms (question words such as 如何) add to the score where
    they occur but neither make a passage match nor count for coordination.
    """

    label: str
    forms: tuple[Form | YearForm, ...]
    optional: bool = False


@dataclass(frozen=True)
class Phrase:
    """An exact sequence of atoms of the normalised text (chunks between
    punctuation must each occur). An ``optional`` phrase is a bonus of
    ``weight`` for passages that also match otherwise (a fragment of several
    words found verbatim)."""

    text: str
    weight: float = 1.0
    optional: bool = False


@dataclass(frozen=True)
class Filter:
    """A restriction that does not score.

    ``field`` is ``year`` (``low``/``high``, ``None`` for open ends),
    ``section`` or ``title`` (``words``: all must occur in the headings or
    the title; ``value``: the whole normalised heading also counts),
    ``keyword`` (``values``: the 关键词 and its synonyms), ``region``
    (``value``) or ``doc`` (``value``: a doc_id prefix).
    """

    field: str
    value: str = ""
    words: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class Soft:
    """Words side by side: a passage matching any item matches; ranking puts
    passages matching more items first (coordination)."""

    items: tuple["Node", ...]


@dataclass(frozen=True)
class All:
    """``AND``: every item must match."""

    items: tuple["Node", ...]


@dataclass(frozen=True)
class Any:
    """``OR``: some item must match; scores add up."""

    items: tuple["Node", ...]


@dataclass(frozen=True)
class Exclude:
    """``NOT``/``-``: passages matching ``item`` are left out of the parent."""

    item: "Node"


Node = Union[Term, Phrase, Filter, Soft, All, Any, Exclude]


@dataclass(frozen=True)
class Plan:
    """A compiled query: the tree, the strings to highlight, and notes for the
    user (terms dropped past the cap, ...). ``root`` is ``None`` when nothing
    in the query is searchable."""

    root: Node | None
    highlights: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    hint: str = ""

    def terms(self) -> Iterator[Term]:
        """Every :class:`Term` of the tree, excluded ones included, in order."""
        stack = [self.root] if self.root is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, Term):
                yield node
            elif isinstance(node, Exclude):
                stack.append(node.item)
            elif isinstance(node, (Soft, All, Any)):
                stack.extend(reversed(node.items))


def with_filters(plan: Plan, filters: list[Filter]) -> Plan:
    """``plan`` restricted by ``filters`` (the ``year=``/``section=`` arguments of a search)."""
    if not filters or plan.root is None:
        return plan
    root = All((plan.root, *filters))
    return Plan(root, plan.highlights, plan.notes, plan.hint)
