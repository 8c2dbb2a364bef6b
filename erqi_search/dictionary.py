"""Word dictionaries and the jieba-compatible segmenter.

Segmentation follows jieba's dictionary algorithm (a DAG of dictionary
words, the most probable route by word frequency) without its HMM, so that
it is deterministic and needs nothing but a word -> frequency table:

* building an index uses jieba's own ``dict.txt`` plus the policy terms in
  ``data/policy_terms.txt`` (:func:`full_segmenter`);
* searching uses the compact table stored inside the index: every word the
  index holds, with the same frequencies (:func:`compact_table`), so that a
  query is cut as its text was cut at build time, without paying jieba's
  dictionary load.

>>> seg = Segmenter({"大气": 100, "污染": 100, "防治": 100, "大气污染": 50}, total=10_000)
>>> seg.cut("大气污染防治")
['大气污染', '防治']
>>> seg.cut_for_search("大气污染防治")
['大气', '污染', '大气污染', '防治']

Candidates for the policy terms are found in a corpus by
:mod:`erqi_search.candidates` (``erqi-search dictionary candidates SOURCE...``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import math
import os
import re
from functools import lru_cache
from pathlib import Path

from .text import DATA, T2S_FILE, normalize_text

POLICY_TERMS = DATA / "policy_terms.txt"
MAX_SUBWORD = 6


def _jieba_dir() -> Path:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("jieba is not installed; install erqi-search with its dependencies")
    return Path(list(spec.submodule_search_locations)[0])


def jieba_file(name: str) -> Path:
    """A data file shipped with jieba (``dict.txt``, ``analyse/idf.txt``), found without importing jieba."""
    return _jieba_dir() / name


class Segmenter:
    """jieba's dictionary segmentation over a word -> frequency table.

    ``freq`` holds every word with its frequency and, like jieba's prefix
    dictionary, every proper prefix of a word with frequency 0.
    """

    def __init__(self, words: dict[str, int], total: int | None = None):
        freq: dict[str, int] = {}
        for word, f in words.items():
            if f > 0:
                freq[word] = f
                for i in range(1, len(word)):
                    freq.setdefault(word[:i], 0)
        self._set(freq, total or sum(words.values()) or 1)

    def _set(self, freq: dict[str, int], total: int) -> None:
        self.freq, self.total = freq, total
        self._logtotal = math.log(total)

    @classmethod
    def from_prefix_table(cls, freq: dict[str, int], total: int) -> "Segmenter":
        """Wrap a table that already holds the prefixes (as cached)."""
        seg = cls.__new__(cls)
        seg._set(freq, total)
        return seg

    def add_word(self, word: str, f: int) -> None:
        self.freq[word] = f
        for i in range(1, len(word)):
            self.freq.setdefault(word[:i], 0)

    def __contains__(self, word: str) -> bool:
        return self.freq.get(word, 0) > 0

    def word_items(self):
        """``(word, frequency)`` for every word (prefixes left out)."""
        return ((w, f) for w, f in self.freq.items() if f > 0)

    def _route(self, text: str) -> list[int]:
        n, freq, logtotal = len(text), self.freq, self._logtotal
        best = [0.0] * (n + 1)
        nxt = [0] * (n + 1)
        log = math.log
        for i in range(n - 1, -1, -1):
            top_score, top_end = log(freq.get(text[i]) or 1) - logtotal + best[i + 1], i + 1
            j = i + 2
            frag = text[i:j]
            while j <= n and frag in freq:
                f = freq[frag]
                if f:
                    score = log(f) - logtotal + best[j]
                    if score > top_score:
                        top_score, top_end = score, j
                j += 1
                frag = text[i:j]
            best[i], nxt[i] = top_score, top_end
        return nxt

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The ``(start, end)`` of each word of ``text`` (a run of Chinese characters)."""
        nxt = self._route(text)
        out, i = [], 0
        while i < len(text):
            out.append((i, nxt[i]))
            i = nxt[i]
        return out

    def sub_spans(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """The in-dictionary parts (2 to 6 characters, shortest first) of the
        word ``text[start:end]``: what search mode adds before the word."""
        freq = self.freq
        return [(s, s + size) for size in range(2, min(end - start, MAX_SUBWORD + 1))
                for s in range(start, end - size + 1) if freq.get(text[s : s + size])]

    def search_spans(self, text: str) -> list[tuple[int, int]]:
        """Search mode: each word's in-dictionary parts (2 to 6 characters), then the word."""
        out = []
        for start, end in self.spans(text):
            out.extend(self.sub_spans(text, start, end))
            out.append((start, end))
        return out

    def cut(self, text: str) -> list[str]:
        return [text[s:e] for s, e in self.spans(text)]

    def cut_for_search(self, text: str) -> list[str]:
        return [text[s:e] for s, e in self.search_spans(text)]


def read_policy_terms(path: Path = POLICY_TERMS) -> list[str]:
    """The policy terms: one per line; ``#`` starts a comment."""
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip()
        if term:
            terms.append(term)
    return terms


@lru_cache(maxsize=1)
def dictionary_hash() -> str:
    """Hash of everything that decides segmentation: jieba's version, the
    policy terms and the character table. jieba's version is read from its
    source, not through package metadata, which costs a search 50 ms."""
    found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", jieba_file("__init__.py").read_text(encoding="utf-8"))
    digest = hashlib.sha256(f"jieba {found.group(1) if found else 'unknown'}\n".encode())
    digest.update(POLICY_TERMS.read_bytes())
    digest.update(T2S_FILE.read_bytes())
    return digest.hexdigest()[:16]


def _suggest_freq(seg: Segmenter, word: str) -> int:
    """jieba's ``suggest_freq``: just enough frequency for ``word`` to win over its parts."""
    p = 1.0
    for part in seg.cut(word):
        p *= (seg.freq.get(part) or 1) / seg.total
    return max(int(p * seg.total) + 1, seg.freq.get(word, 0), 3)


def _cache_file(kind: str = "dictionary") -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "erqi-search" / f"{kind}-{dictionary_hash()}.marshal"


def cached(kind: str, build):
    """``build()``'s value (marshallable), kept in ``~/.cache/erqi-search``
    (``XDG_CACHE_HOME``) under ``kind`` and :func:`dictionary_hash`, so only
    the first process pays for it; an unreadable cache is built again."""
    cache = _cache_file(kind)
    try:
        return marshal.loads(cache.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        value = build()
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(value))
            os.replace(tmp, cache)
        except OSError:
            pass
        return value


def _build_full_table() -> tuple[dict[str, int], int]:
    freq: dict[str, int] = {}
    with open(jieba_file("dict.txt"), encoding="utf-8") as handle:
        for line in handle:
            parts = line.split(" ")
            if len(parts) >= 2:
                word = normalize_text(parts[0])
                freq[word] = max(freq.get(word, 0), int(parts[1]))
    seg = Segmenter(freq)
    for term in read_policy_terms():
        term = normalize_text(term)
        seg.add_word(term, _suggest_freq(seg, term))
    return seg.freq, seg.total


@lru_cache(maxsize=1)
def full_segmenter() -> Segmenter:
    """jieba's dictionary plus the policy terms (normalised), for building indexes.

    The table is cached in ``~/.cache/erqi-search`` (``XDG_CACHE_HOME``), keyed
    by :func:`dictionary_hash`, so only the first build pays for parsing it.
    """
    freq, total = cached("dictionary", _build_full_table)
    return Segmenter.from_prefix_table(freq, total)


def write_query_dictionary(file: Path, segmenter: Segmenter) -> int:
    """Store the segmenter's words (word -> frequency) as a sorted on-disk table
    (:mod:`erqi_search.lexicon`), so a search reads only the entries its query
    touches and cuts a query exactly as the index's text was cut. Returns
    the table's total (for :func:`stored_segmenter`)."""
    from . import lexicon

    with open(file, "wb") as out:
        lexicon.write(out, ((w.encode("utf-8"), f, 0) for w, f in sorted(segmenter.word_items())))
    return segmenter.total


def stored_segmenter(buf, total: int) -> Segmenter:
    """A :class:`Segmenter` over a table written by :func:`write_query_dictionary`."""
    return Segmenter.from_prefix_table(StoredFrequencies(buf), total)


class StoredFrequencies:
    """The frequency table of a :class:`Segmenter` read from a stored query
    dictionary on demand: a word's frequency, 0 for a proper prefix of a
    word, absent otherwise (as :class:`Segmenter` expects); look-ups are cached.

    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "q.lex"
    >>> write_query_dictionary(file, Segmenter({"大气": 50, "大气污染": 9, "污染": 30}))
    89
    >>> freq = StoredFrequencies(file.read_bytes())
    >>> freq.get("大气"), freq.get("大气污"), "大气污" in freq, "污气" in freq
    (50, 0, True, False)
    """

    def __init__(self, buf):
        from .lexicon import Lexicon

        self.lexicon = Lexicon(buf)
        self._cache: dict[str, int | None] = {}

    def _lookup(self, word: str) -> int | None:
        found = self._cache.get(word, -1)
        if found != -1:
            return found
        key = word.encode("utf-8")
        found = None
        for stored, value, _, _ in self.lexicon.scan(key):
            found = value if stored == key else 0
            break
        self._cache[word] = found
        return found

    def get(self, word: str, default=None):
        found = self._lookup(word)
        return default if found is None else found

    def __contains__(self, word: str) -> bool:
        return self._lookup(word) is not None

    def __getitem__(self, word: str) -> int:
        found = self._lookup(word)
        if found is None:
            raise KeyError(word)
        return found
