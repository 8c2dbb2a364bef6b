"""The index store: a directory of generations published by a manifest, its
lock, and what every engine shares beside the postings (figures, the query
dictionary, mined aliases, boilerplate, the list of source files).

An index directory holds ``manifest.json`` and one or more *generations*
(``gen-000001/`` ...). The manifest names the current generation; writing it
(an atomic ``os.replace``) is what publishes a write, so a reader always
sees a whole index. The manifest is small (what a search needs); the list
of source files, which only ``update`` and ``status`` read, is beside it in
the generation (``sources.json``).

>>> command_hint(Path("index"), "rebuild")
'erqi-search index rebuild'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
import zlib
from functools import lru_cache
from pathlib import Path

from . import __version__
from .errors import ErqiSearchError, IndexCorrupt, IndexLocked, IndexNotFound, IndexVersionMismatch

#: 4: packed postings (engines/embedded), manifest without the file list.
FORMAT_VERSION = 4
MANIFEST = "manifest.json"
SOURCES_FILE = "sources.json"
FIGURES = "figures.jsonl.gz"
ALIAS_CANDIDATES = "alias_candidates.jsonl.gz"
QUERY_DICT = "query_dict.lex"
ALIASES = "aliases.json"
LOCK_FILE = ".lock"
DEFAULT_INDEX = "index"
DEFAULT_SOURCES = ("seeds",)
ENV_INDEX = "ERQI_SEARCH_INDEX"


def default_index_path() -> Path:
    """``$ERQI_SEARCH_INDEX`` or ``index`` in the working directory."""
    return Path(os.environ.get(ENV_INDEX) or DEFAULT_INDEX)


def command_hint(path: Path, verb: str) -> str:
    """The command that fixes the index at ``path``: ``erqi-search index VERB [--index PATH]``."""
    default = Path(path) == Path(DEFAULT_INDEX) and not os.environ.get(ENV_INDEX)
    return f"erqi-search index {verb}" + ("" if default else f" --index {path}")


def require_index(path: Path) -> None:
    """Raise :class:`IndexNotFound` (naming the build command) if ``path`` holds no index."""
    if not (Path(path) / MANIFEST).is_file():
        raise IndexNotFound(f"no index at {path}; build one with: {command_hint(path, 'build')}")


# ----------------------------------------------------------------- manifest

def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"erqi_search": __version__, "python": sys.version.split()[0]}
    for dist, key in (("whoosh-reloaded", "whoosh"), ("jieba", "jieba"), ("numpy", "numpy")):
        try:
            out[key] = version(dist)
        except PackageNotFoundError:
            out[key] = "unknown"
    return out


#: What an index built before figures recorded their rules holds.
UNRECORDED = "unrecorded"


@lru_cache(maxsize=1)
def figure_rules() -> str:
    """A short hash of the figure extraction rules (the source of figures.py).
    A build records it in the manifest (``figures_rules``) and an update adds
    its own, so figures of other rules can be told apart and rebuilt.

    >>> len(figure_rules())
    12
    """
    return hashlib.sha256(Path(__file__).with_name("figures.py").read_bytes()).hexdigest()[:12]


def figures_current(manifest: dict) -> bool:
    """Whether every figure of the index with this ``manifest`` was extracted by the rules of this code."""
    return manifest.get("figures_rules") == [figure_rules()]


def expected_identity() -> dict[str, object]:
    """What the running code requires of an index it opens."""
    from .analysis import ANALYZER_VERSION
    from .dictionary import dictionary_hash

    return {
        "format_version": FORMAT_VERSION,
        "analyzer_version": ANALYZER_VERSION,
        "dictionary_hash": dictionary_hash(),
    }


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


def write_json(file: Path, data, compact: bool = False) -> None:
    """Write JSON atomically (temp file, fsync, rename), UTF-8 with Chinese
    unescaped; indented for people to read, or ``compact`` (a table of every
    source file: Python's C encoder writes it at once, the indenting one
    spends a second on the full corpus)."""
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, ensure_ascii=False, **({"separators": (",", ":")} if compact else {"indent": 2})))
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, file)


def write_manifest(path: Path, manifest: dict) -> None:
    """Publish: replace ``manifest.json`` atomically."""
    write_json(Path(path) / MANIFEST, manifest)


def read_sources(path: Path, manifest: dict) -> dict:
    """The source files the index was built from: path -> doc_id, sha256, size,
    mtime, passages (and ``skipped`` with the reason)."""
    try:
        return json.loads((Path(path) / manifest["generation"] / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise IndexCorrupt(f"the index at {path} has lost its list of sources; "
                           f"rebuild with: {command_hint(path, 'rebuild')}") from None


# -------------------------------------------------------------- generations

def generations(path: Path) -> list[Path]:
    return sorted(p for p in Path(path).glob("gen-*") if p.is_dir())


def new_generation(path: Path, manifest: dict | None) -> Path:
    """A new, empty generation directory numbered after every existing one."""
    numbers = [int(p.name[4:]) for p in generations(path) if p.name[4:].isdigit()]
    if manifest:
        numbers.append(int(manifest["generation"][4:]))
    gen = Path(path) / f"gen-{max(numbers, default=0) + 1:06d}"
    gen.mkdir()
    return gen


def clean(path: Path, keep: set[str]) -> None:
    """Remove generations and temp files no manifest refers to (debris of killed writes)."""
    for gen in generations(path):
        if gen.name not in keep:
            import shutil

            shutil.rmtree(gen, ignore_errors=True)
    for tmp in Path(path).glob(f".{MANIFEST}.*.tmp"):
        tmp.unlink(missing_ok=True)


def current_manifest(path: Path) -> dict | None:
    """The manifest if the index opens, else ``None`` (a write then starts afresh)."""
    try:
        return read_manifest(path)
    except ErqiSearchError:
        return None


def kept_generations(manifest: dict | None) -> set[str]:
    """The current and the previous generation: what searches may still read."""
    if not manifest:
        return set()
    return {manifest["generation"], manifest.get("previous_generation") or ""}


# ------------------------------------------------------------------ locking

class IndexLock:
    """An exclusive lock on an index directory: ``flock`` on ``.lock``, which
    holds the owner's pid and host for the message a second writer gets.

    The kernel holds the lock, so it cannot be taken twice (two writers that
    create the file at the same moment, or one that reads it before its
    owner has written the pid) and it is released when its process dies: a
    dead writer's ``.lock`` is simply taken over. A live one raises
    :class:`IndexLocked` at once, or after ``wait`` seconds.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d, IndexLock(Path(d)):
    ...     IndexLock(Path(d)).__enter__()
    Traceback (most recent call last):
    erqi_search.errors.IndexLocked: another build is running on ... (pid ...); wait for it to finish and try again
    """

    def __init__(self, path: Path, wait: float = 0.0):
        self.file = Path(path) / LOCK_FILE
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> "IndexLock":
        import fcntl

        deadline = time.monotonic() + self.wait
        while True:
            try:
                fd = os.open(self.file, os.O_CREAT | os.O_RDWR, 0o644)
            except PermissionError:
                raise ErqiSearchError(f"cannot write the index at {self.file.parent}: permission denied") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    raise IndexLocked(self._held_message()) from None
                time.sleep(0.1)
                continue
            if not self._still_there(fd):  # the owner before us removed it as we opened it: lock the new file
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {os.uname().nodename}\n".encode())
            self.fd = fd
            return self

    def _still_there(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_ino == os.stat(self.file).st_ino
        except FileNotFoundError:
            return False

    def _held_message(self) -> str:
        pid = self._owner()
        if pid is not None and not _alive(pid):  # its forked workers still hold the lock
            return (f"a build on {self.file.parent} was stopped (pid {pid}) and its workers are still finishing; "
                    "try again in a few seconds")
        return (f"another build is running on {self.file.parent} (pid {pid or 'unknown'}); "
                "wait for it to finish and try again")

    def _owner(self) -> int | None:
        try:
            return int(self.file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def __exit__(self, *exc) -> None:
        self.file.unlink(missing_ok=True)  # while still held, so nobody locks the removed file for good
        os.close(self.fd)
        self.fd = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, someone else's
    return True


# ------------------------------------------------------------ shared files

def read_aliases(gen: Path, manifest: dict) -> dict[str, tuple[str, ...]]:
    """The aliases stored with a generation: normalised term -> its aliases
    (mined from the corpus and curated, :mod:`erqi_search.aliases`). The
    table is part of the analysis: one that differs from what the manifest
    recorded is refused like another analyzer."""
    file = Path(gen) / ALIASES
    data = file.read_bytes() if file.is_file() else b""
    if hashlib.sha256(data).hexdigest()[:16] != manifest.get("aliases_hash"):
        raise IndexVersionMismatch(
            f"the aliases of the index at {Path(gen).parent} differ from those it was built with; "
            f"rebuild with: {command_hint(Path(gen).parent, 'rebuild')}")
    if not data:
        return {}
    return {term: tuple(others) for term, others in json.loads(data).get("classes", {}).items()}


def write_aliases(gen: Path, mined: list[dict], classes: dict) -> str:
    """Store the mined pairs and the alias classes; return the hash the manifest records."""
    data = json.dumps({"mined": mined, "classes": classes}, ensure_ascii=False, indent=1).encode("utf-8")
    (Path(gen) / ALIASES).write_bytes(data)
    return hashlib.sha256(data).hexdigest()[:16]


_FIELD_PATTERNS: dict[str, re.Pattern] = {}


def line_field(line: str, name: str) -> str:
    r"""The string field ``name`` of a line :meth:`ReportLines.write_one`
    wrote (compact JSON), read without parsing the line.

    >>> line_field('{"indicator":"地区生产总值","doc_id":"a\\"b"}', "doc_id")
    'a"b'
    """
    pattern = _FIELD_PATTERNS.get(name)
    if pattern is None:
        pattern = _FIELD_PATTERNS[name] = re.compile(rf'"{name}":"((?:[^"\\]|\\.)*)"')
    found = pattern.search(line)
    if found is None:
        return json.loads(line)[name]
    value = found.group(1)
    return value if "\\" not in value else json.loads(f'"{value}"')


class ReportLines:
    """A gzip file of JSON lines, one per figure or alias candidate, each
    carrying its report's ``doc_id``. The store owns these files: a write
    appends the lines of the reports it reads, an update carries over the
    lines of the reports it keeps, and readers hold the file open, so an open
    index keeps them even after later writes delete its generation."""

    def __init__(self, gen: Path, name: str):
        self.file = Path(gen) / name

    def writer(self):
        import gzip  # writes only: a search reads with zlib

        return gzip.open(self.file, "wt", encoding="utf-8", compresslevel=3)  # 6: 15% smaller, twice as slow

    @staticmethod
    def write_one(handle, record: dict) -> None:
        handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

    def copy_kept(self, handle, old_gen: Path, deleted_docs: set[str]) -> None:
        """Carry the lines of the reports an update keeps from ``old_gen``."""
        old = Path(old_gen) / self.file.name
        if not old.is_file():
            return
        import gzip

        kept = []
        with gzip.open(old, "rt", encoding="utf-8") as source:
            for line in source:
                if line_field(line, "doc_id") not in deleted_docs:
                    kept.append(line)
                if len(kept) >= 4096:
                    handle.write("".join(kept))
                    kept = []
        handle.write("".join(kept))

    def open(self):
        """A handle to keep; :func:`read_lines` reads from it."""
        return open(self.file, "rb")


def read_lines(handle) -> list[dict]:
    """Every record from a handle of :meth:`ReportLines.open` (thread-safe: positional reads)."""
    return [json.loads(line) for line in read_raw_lines(handle)]


def read_raw_lines(handle) -> list[str]:
    """The JSON lines of a handle of :meth:`ReportLines.open`, not yet parsed."""
    size = os.fstat(handle.fileno()).st_size
    data = zlib.decompress(os.pread(handle.fileno(), size, 0), wbits=31) if size else b""  # gzip format
    return data.decode("utf-8").splitlines()
