"""Text primitives shared by every stage: character classes, normalisation
with offset maps, and atoms. A leaf module: it imports nothing of ours.

Matching works on a *normalised* copy of the text (NFKC, Latin lower case,
traditional -> simplified characters) while offsets point into the original.

>>> normalize_text("溫暖ＧＤＰ")
'温暖gdp'
>>> [a for a, _, _ in atoms("完成28.6亿元,pm2.5下降9%")]
['完', '成', '28.6', '亿', '元', 'pm2.5', '下', '降', '9%']
>>> bool(HAN_RE.match("二")), bool(HAN_RE.match("a"))
(True, False)
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
T2S_FILE = DATA / "t2s.tsv"

#: Chinese characters (the unified blocks, extension A to G, compatibility).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
#: Characters that are a word atom each: Chinese, kana, hangul.
CJK = HAN + "\u3040-\u30ff\uac00-\ud7af"
HAN_RE = re.compile(f"[{HAN}]")
CJK_RE = re.compile(f"[{CJK}]")
#: Letters and digits that form runs (Latin, Greek, Cyrillic).
RUN = "0-9a-z\u00b5\u00df-\u024f\u0370-\u03ff\u0400-\u04ff"
#: An atom of normalised text: a run of letters and digits with ``.`` or ``+``
#: inside and an optional ``%`` (``28.6``, ``pm2.5``, ``9%``, ``1+n``), or any
#: other single word character.
ATOM = re.compile(rf"[{RUN}]+(?:[.+][{RUN}]+)*%?|(?!_)\w")

#: Punctuation that ends a sentence, and that separates clauses inside one.
SENTENCE_END = "。！？!?；;…"
#: Full-width digits to ASCII, for rules read before normalisation (years, numbering).
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
CLAUSE_PUNCT = "，,、：:"


@lru_cache(maxsize=1)
def _t2s() -> dict[int, str]:
    table = {}
    for line in T2S_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            trad, simp = line.split("\t")
            table[ord(trad)] = simp
    return table


_TABLE: dict[int, str] = {}  # character -> its normalised form, filled as characters are met
_KNOWN: set[str] = set()  # the characters in _TABLE
_ODD: set[str] = set()  # characters whose normalised form is not exactly one character


def _normal_char(ch: str) -> str:
    out = unicodedata.normalize("NFKC", ch).lower().translate(_t2s())
    _TABLE[ord(ch)] = out
    _KNOWN.add(ch)
    if len(out) != 1:
        _ODD.add(ch)
    return out


def normalize(text: str) -> tuple[str, list[int] | None]:
    """Normalise for matching; return the text and, when lengths changed, the
    original index of every normalised character (``None``: one to one).

    >>> normalize("ＰＭ１０ 溫暖")
    ('pm10 温暖', None)
    >>> normalize("5㎡")
    ('5m2', [0, 1, 1])
    """
    chars = set(text)
    for ch in chars - _KNOWN:
        _normal_char(ch)
    norm = text.translate(_TABLE)
    odd = chars & _ODD
    if not odd:
        return norm, None
    origin: list[int] = []
    last = 0
    for m in re.finditer("|".join(map(re.escape, odd)), text):
        i = m.start()
        origin.extend(range(last, i))
        origin.extend([i] * len(_TABLE[ord(text[i])]))
        last = i + 1
    origin.extend(range(last, len(text)))
    return norm, origin


def normalize_text(text: str) -> str:
    """Only the normalised text: ``normalize_text("溫暖ＧＤＰ") == "温暖gdp"``."""
    return normalize(text)[0]


def atoms(norm: str) -> list[tuple[str, int, int]]:
    """The atoms of normalised text with their offsets: Chinese characters and
    Latin/number runs (see :data:`ATOM`)."""
    return [(m.group(), m.start(), m.end()) for m in ATOM.finditer(norm)]


#: Between two atoms in :func:`atom_text`: adjacent in the text, or apart.
ADJACENT, APART = "\x1f", "\x1e"


def atom_text(norm: str) -> str:
    """Normalised text as its atoms, each pair marked adjacent or apart (what
    a phrase must match: the same atoms, joined the same way).

    >>> atom_text("pm2.5下降,增长") == "\\x1epm2.5\\x1f下\\x1f降\\x1e增\\x1f长\\x1e"
    True
    """
    out = [APART]
    previous_end = None
    for atom, start, end in atoms(norm):
        if previous_end is not None:
            out.append(ADJACENT if start == previous_end else APART)
        out.append(atom)
        previous_end = end
    out.append(APART)
    return "".join(out)


def atom_pattern(norm: str) -> re.Pattern:
    """A pattern finding (overlapping) occurrences of ``norm``'s atom sequence
    in an :func:`atom_text`."""
    body = re.escape(atom_text(norm)[1:-1])
    return re.compile(f"(?<=[{ADJACENT}{APART}])(?={body}[{ADJACENT}{APART}])")
