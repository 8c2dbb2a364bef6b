"""The Whoosh schema, the document a passage becomes, and the index manifest.

An index directory holds ``manifest.json`` and one or more *generations*
(``gen-000001/`` ...), each a complete Whoosh index plus the compact query
dictionary. The manifest names the current generation; writing it (an atomic
``os.replace``) is what publishes a build, so a reader always sees a whole
index.

>>> sorted(build_schema().names())[:4]
['content', 'date', 'doc_id', 'grams']
"""

from __future__ import annotations

import json
import os
import sys
from array import array
from pathlib import Path

from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter
from whoosh.formats import Format, Positions
from whoosh.matching import ListMatcher

from . import __version__
from .analysis import ANALYZER_VERSION, ErqiAnalyzer, PreAnalyzed, grams, tokenize
from .dictionary import dictionary_hash
from .errors import IndexCorrupt, IndexNotFound, IndexVersionMismatch
from .text import normalize_text

FORMAT_VERSION = 3  # 3: segments written with CompactCodec
MANIFEST = "manifest.json"
QUERY_DICT = "query_dict.marshal"
FIGURES = "figures.jsonl"
DEFAULT_INDEX = "index"
DEFAULT_SOURCES = ("seeds",)
ENV_INDEX = "ERQI_SEARCH_INDEX"


def default_index_path() -> Path:
    """``$ERQI_SEARCH_INDEX`` or ``index`` in the working directory."""
    return Path(os.environ.get(ENV_INDEX) or DEFAULT_INDEX)


def require_index(path: Path) -> None:
    """Raise :class:`IndexNotFound` (naming the build command) if ``path`` holds no index."""
    if not (Path(path) / MANIFEST).is_file():
        raise IndexNotFound(f"no index at {path}; build one with: {command_hint(path, 'build')}")


class PackedPositions(Positions):
    """Positions as a packed array of 16- (or 32-) bit integers.

    Whoosh's own encoding pickles every posting's list (about 14 bytes a
    posting before compression). Whoosh pickles this class into the
    schema: keep it at ``erqi_search.schema.PackedPositions``.
    """

    def encode(self, poslist):
        code = "H" if not poslist or max(poslist) < 65536 else "I"
        packed = array(code, poslist)
        if sys.byteorder == "big":
            packed.byteswap()
        return code.encode() + packed.tobytes()

    def decode_positions(self, valuestring):
        packed = array(valuestring[:1].decode())
        packed.frombytes(valuestring[1:])
        if sys.byteorder == "big":
            packed.byteswap()
        return packed.tolist()

    def decode_frequency(self, valuestring):
        return (len(valuestring) - 1) // (2 if valuestring[:1] == b"H" else 4)


class WeightedFrequency(Format):
    """Term frequency kept as the posting weight, with no value bytes
    (Whoosh's ``Frequency`` stores it twice). Keep at this import path."""

    posting_size = 0

    def word_values(self, value, analyzer, **kwargs):
        counts: dict[str, int] = {}
        for token in analyzer(value, **kwargs):
            counts[token.text] = counts.get(token.text, 0) + 1
        for word, freq in counts.items():
            yield word, freq, freq * self.field_boost, b""


#: Terms with fewer postings than this keep them inside the term table.
INLINE_LIMIT = 8
#: Blocks of this many postings or fewer are not worth compressing.
SMALL_BLOCK = 4


class CompactCodec(W3Codec):
    """W3 codec writing with :class:`CompactPostingsWriter`. Whoosh pickles the
    codec into each segment: keep it at ``erqi_search.schema.CompactCodec``."""

    def postings_writer(self, dbfile, byteids=False):
        return CompactPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                     compression=self._compression, inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if not terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        ids, weights, values = terminfo.inlined_postings()
        return _InlineMatcher(ids, weights, values, format_, scorer=scorer, term=term, terminfo=terminfo)


class _InlineMatcher(ListMatcher):
    """Inlined postings; a posting without value bytes reads as ``b""`` (Whoosh's
    ``ListMatcher`` gives ``""``, which merging rejects)."""

    def value(self):
        return super().value() or b""


class CompactPostingsWriter(W3PostingsWriter):
    """Two fixes to whoosh-reloaded's postings writer that matter for a bigram field
    whose terms mostly have a handful of postings: inlining calls a method that
    does not exist (``set_inline`` for ``set_inlined``), and a block of a few
    bytes is zlib-compressed anyway, which makes it larger. About 60 bytes of
    block framing per term are saved."""

    def finish_postings(self):
        if not self.written() and len(self) < self._inlinelimit:
            terminfo = self._terminfo
            terminfo.add_block(self)
            terminfo.set_inlined(self._ids, self._weights, self._values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()

    def _write_block(self, last=False):
        if len(self._ids) > SMALL_BLOCK:
            return super()._write_block(last)
        compression, self._compression = self._compression, 0
        try:
            return super()._write_block(last)
        finally:
            self._compression = compression


def compact_codec() -> CompactCodec:
    """The codec every writer of an erqi-search index uses."""
    return CompactCodec(inlinelimit=INLINE_LIMIT)


def build_schema():
    """The fields of a passage document (see docs/architecture.md)."""
    from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

    words = ErqiAnalyzer("words")

    def word_field(**options):
        field = TEXT(analyzer=words, phrase=False, **options)
        field.format = WeightedFrequency()
        return field

    grams_field = TEXT(analyzer=ErqiAnalyzer("grams"), phrase=True)
    grams_field.format = PackedPositions()
    return Schema(
        doc_id=ID(stored=True),
        passage_id=ID(stored=True, unique=True),
        ordinal=STORED,
        title=word_field(stored=True),
        year=NUMERIC(int, bits=16, stored=True, sortable=True, signed=False),
        date=STORED,
        region=ID(stored=True),
        section=KEYWORD(stored=True, scorable=True),
        section_words=word_field(),
        section_path=STORED,
        top_section=ID(sortable=True),
        keywords=KEYWORD(stored=True, scorable=True),
        key_terms=KEYWORD(stored=True, scorable=True),
        content=word_field(stored=True),
        grams=grams_field,
        source=STORED,
        sha256=ID(stored=True),
        span=STORED,
    )


def passage_fields(passage, sha256: str) -> dict:
    """The keyword arguments of ``writer.add_document`` for one passage.

    Text fields arrive already analysed (:class:`PreAnalyzed`), so this runs
    in the worker processes and the single writer only writes.
    """
    headings = " ".join(passage.section_path)
    fields = dict(
        doc_id=passage.doc_id,
        passage_id=passage.passage_id,
        ordinal=passage.ordinal,
        title=_words(passage.title),
        _stored_title=passage.title,
        date=passage.date,
        section=[normalize_text(h) for h in passage.section_path],
        _stored_section=list(passage.section_path),
        section_words=_words(headings),
        section_path=list(passage.section_path),
        keywords=[normalize_text(k) for k in passage.keywords],
        _stored_keywords=list(passage.keywords),
        key_terms=list(passage.key_terms),
        content=_words(passage.text),
        _stored_content=passage.text,
        grams=PreAnalyzed(passage.text, grams(passage.text)),
        source=passage.source,
        sha256=sha256,
        span=list(passage.span),
    )
    if passage.section_path:
        fields["top_section"] = passage.section_path[0]
    if passage.year is not None:
        fields["year"] = passage.year
    if passage.region:
        fields["region"] = normalize_text(passage.region)
    return {k: v for k, v in fields.items() if v not in ("", [], None)}


def _words(text: str) -> PreAnalyzed:
    return PreAnalyzed(text, [(t.text, t.pos) for t in tokenize(text)])


# ----------------------------------------------------------------- manifest

def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"erqi_search": __version__, "python": sys.version.split()[0]}
    for dist, key in (("whoosh-reloaded", "whoosh"), ("jieba", "jieba")):
        try:
            out[key] = version(dist)
        except PackageNotFoundError:
            out[key] = "unknown"
    return out


def expected_identity() -> dict[str, object]:
    """What the running code requires of an index it opens."""
    return {
        "format_version": FORMAT_VERSION,
        "analyzer_version": ANALYZER_VERSION,
        "dictionary_hash": dictionary_hash(),
    }


def command_hint(path: Path, verb: str) -> str:
    """The command that fixes the index at ``path``: ``erqi-search index VERB [--index PATH]``."""
    default = Path(path) == Path(DEFAULT_INDEX) and not os.environ.get(ENV_INDEX)
    return f"erqi-search index {verb}" + ("" if default else f" --index {path}")


def read_manifest(path: Path) -> dict:
    """Read and check ``manifest.json``; raise a one-sentence error naming the fix."""
    file = Path(path) / MANIFEST
    rebuild_hint = command_hint(path, "rebuild")
    try:
        text = file.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        raise IndexNotFound(f"no index at {path}; build one with: {command_hint(path, 'build')}") from None
    except OSError as err:
        raise IndexCorrupt(f"cannot read {file}: {err.strerror}; rebuild with: {rebuild_hint}") from None
    try:
        manifest = json.loads(text)
        generation = manifest["generation"]
        fmt = int(manifest["format_version"])
    except (ValueError, KeyError, TypeError):
        raise IndexCorrupt(f"the manifest {file} is damaged; rebuild with: {rebuild_hint}") from None
    if fmt > FORMAT_VERSION:
        raise IndexVersionMismatch(
            f"the index at {path} has format {fmt}, newer than this erqi-search understands "
            f"({FORMAT_VERSION}); upgrade erqi-search or rebuild with: {rebuild_hint}"
        )
    for key, want in expected_identity().items():
        if manifest.get(key) != want:
            raise IndexVersionMismatch(
                f"the index at {path} was built with {key.replace('_', ' ')} {manifest.get(key)!r}, "
                f"this erqi-search uses {want!r}; rebuild with: {rebuild_hint}"
            )
    if not (Path(path) / generation).is_dir():
        raise IndexCorrupt(f"the index at {path} is missing its data ({generation}); rebuild with: {rebuild_hint}")
    return manifest


def generation_files(gen: Path) -> dict[str, int]:
    """Name -> size of every data file of a generation (lock files aside)."""
    return {f.name: f.stat().st_size for f in sorted(Path(gen).iterdir())
            if f.is_file() and not f.name.endswith("LOCK")}


def check_generation(path: Path, manifest: dict) -> Path:
    """The generation directory, after checking that its files are all there and
    whole (sizes as recorded), so a damaged index is never opened as if whole."""
    gen = Path(path) / manifest["generation"]
    recorded = manifest.get("generation_files") or {}
    try:
        present = generation_files(gen)
    except OSError:
        present = {}
    for name, size in recorded.items():
        if present.get(name) != size:
            state = "missing" if name not in present else f"{present[name]} bytes, not {size}"
            raise IndexCorrupt(f"the index at {path} is damaged ({name} is {state}); "
                               f"rebuild with: {command_hint(path, 'rebuild')}")
    return gen


def write_manifest(path: Path, manifest: dict) -> None:
    """Write ``manifest.json`` atomically (temp file, fsync, rename)."""
    file = Path(path) / MANIFEST
    tmp = file.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, file)
