"""Build, update and rebuild indexes: generations, atomic swap, locking, progress.

Every write makes a new *generation* directory and publishes it by replacing
``manifest.json`` atomically; searches that opened the previous generation
keep reading it (it is deleted only two generations later). A process killed
mid-build leaves the published index untouched; the next build removes its
debris. Analysis runs in a process pool; one Whoosh writer writes, in file
order, so a parallel build equals a single-process one.

>>> import tempfile
>>> report = build_index(["seeds"], tempfile.mkdtemp() + "/ix", jobs=1)
>>> report.documents, report.passages > 100
(5, True)
"""

from __future__ import annotations

import hashlib
import json
import marshal
import multiprocessing
import os
import shutil
import socket
import stat as stat_module
import time
from collections import deque
from itertools import islice
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import ErqiSearchError, IndexLocked, SourceNotFound, UnreadableReport, UnsafeUpdate
from .figures import extract_figures
from .analysis import key_terms
from .ingest import find_report_files, read_report
from .passages import cut_passages
from .schema import (
    FORMAT_VERSION,
    DEFAULT_SOURCES,
    FIGURES,
    MANIFEST,
    QUERY_DICT,
    build_schema,
    compact_codec,
    default_index_path,
    generation_files,
    expected_identity,
    library_versions,
    passage_fields,
    read_manifest,
    write_manifest,
)

LOCK_FILE = ".lock"
BATCH = 8


@dataclass
class Progress:
    """Where a build stands; handed to the ``progress`` callback after each file."""

    files_done: int
    files_total: int
    passages: int
    characters: int
    elapsed: float


@dataclass
class BuildReport:
    """What a build, update or rebuild did."""

    path: str
    generation: str
    documents: int
    passages: int
    characters: int = 0
    seconds: float = 0.0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    def skip(self, path, reason: str, warn: Callable[[str], None]) -> None:
        """Record a file passed over and warn once: the summary's count equals the warnings."""
        self.skipped.append(str(path))
        warn(f"skipped {path}: {reason}")


@dataclass
class IndexStatus:
    """What ``erqi-search index status`` shows."""

    path: str
    generation: str
    documents: int
    passages: int
    size_bytes: int
    built_at: str
    build_seconds: float
    versions: dict
    sources: list[str]
    stale: list[str]  # sources changed, added or removed since the build
    missing_sources: list[str] = field(default_factory=list)  # recorded sources that no longer exist


# ------------------------------------------------------------------ locking

class IndexLock:
    """An exclusive lock on an index directory (``.lock`` holding the owner's pid).

    A lock whose process is gone is cleared; a live one raises
    :class:`IndexLocked` at once, or after ``wait`` seconds.
    """

    def __init__(self, path: Path, wait: float = 0.0):
        self.file = Path(path) / LOCK_FILE
        self.wait = wait

    def __enter__(self) -> "IndexLock":
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fd = os.open(self.file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = self._owner()
                if pid is None or not _alive(pid):
                    self.file.unlink(missing_ok=True)
                    continue
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"another build is running on {self.file.parent} (pid {pid}); "
                        "wait for it to finish and try again"
                    ) from None
                time.sleep(0.1)
                continue
            except PermissionError:
                raise ErqiSearchError(f"cannot write the index at {self.file.parent}: permission denied") from None
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()} {socket.gethostname()}\n")
            return self

    def _owner(self) -> int | None:
        try:
            return int(self.file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def __exit__(self, *exc) -> None:
        self.file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------- analysis

@dataclass
class _FileResult:
    path: str
    doc_id: str
    sha256: str
    size: int
    mtime_ns: int
    docs: list[dict]
    characters: int
    error: str = ""
    figures: list[dict] = field(default_factory=list)


def _analyze_file(item: tuple[str, dict | None, str]) -> _FileResult:
    """Read, cut and analyse one file; any failure skips the file with its reason."""
    path, meta, doc_id = item
    try:
        stat = os.stat(path)
        size, mtime = stat.st_size, stat.st_mtime_ns
    except OSError:
        size, mtime = 0, 0
    try:
        report = read_report(path, meta)
        report.doc_id = doc_id
        passages = cut_passages(report, key_terms)
        docs = [passage_fields(p, report.sha256) for p in passages]
        figures = [f.as_dict() for p in passages
                   for f in extract_figures(p.text, year=p.year, passage_id=p.passage_id, doc_id=doc_id,
                                           context=p.title)]
    except UnreadableReport as err:
        return _FileResult(path, doc_id, "", size, mtime, [], 0, err.reason)
    except Exception as err:  # noqa: BLE001 - one bad file must not stop a build
        return _FileResult(path, doc_id, "", size, mtime, [], 0, f"it could not be analysed ({type(err).__name__}: {err})")
    chars = sum(len(p.text) for p in passages)
    return _FileResult(path, doc_id, report.sha256, size, mtime, docs, chars, figures=figures)


def _analyze_batch(items: list) -> list[_FileResult]:
    return [_analyze_file(item) for item in items]


def _warm_up() -> None:
    """Load the dictionary and IDF table once, before worker processes fork."""
    from .analysis import _idf
    from .dictionary import full_segmenter

    full_segmenter()
    _idf()


def analyze_files(items: list, jobs: int) -> Iterator[_FileResult]:
    """Analyse files in order, ``jobs`` processes at a time, with a bounded
    number of batches in flight (memory stays flat however large the corpus)."""
    _warm_up()
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    if jobs <= 1 or len(batches) <= 1:
        for batch in batches:
            yield from _analyze_batch(batch)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(jobs, mp_context=context)
    try:
        queue = iter(batches)
        pending = deque(pool.submit(_analyze_batch, b) for b in islice(queue, jobs * 3))
        while pending:
            results = pending.popleft().result()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(pool.submit(_analyze_batch, nxt))
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------ sources

def _scan(sources: Iterable, skip=None) -> list[tuple[str, dict | None, str]]:
    """Every report file under the sources, with its metadata row and a unique doc_id."""
    items, used = [], set()
    for path, meta in find_report_files(sources, skip):
        where = os.path.abspath(path)  # links are kept as named, so a warning names them
        doc_id = path.stem
        if doc_id in used:
            doc_id = f"{doc_id}~{hashlib.sha1(where.encode()).hexdigest()[:6]}"
        used.add(doc_id)
        items.append((where, meta, doc_id))
    return items


def _file_sha(path: str) -> str:
    """The sha256 of a regular file, read without blocking (``-`` for a FIFO or device)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            return "-"
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha_or_dash(path: str) -> str:
    try:
        return _file_sha(path)
    except OSError:
        return "-"


def _changed_files(items, recorded: dict) -> tuple[list, list, int]:
    """Split scanned files into added, changed and unchanged (by sha256)."""
    added, changed, unchanged = [], [], 0
    for item in items:
        old = recorded.get(item[0])
        if old is None:
            added.append(item)
            continue
        try:
            stat = os.stat(item[0])
        except OSError:
            changed.append(item)
            continue
        same_stat = (stat.st_size, stat.st_mtime_ns) == (old.get("size"), old.get("mtime_ns"))
        if same_stat or _file_sha(item[0]) == old.get("sha256"):
            unchanged += 1
        else:
            changed.append(item)
    return added, changed, unchanged


# -------------------------------------------------------------- generations

def _generations(path: Path) -> list[Path]:
    return sorted(p for p in path.glob("gen-*") if p.is_dir())


def _new_generation(path: Path, manifest: dict | None) -> Path:
    numbers = [int(p.name[4:]) for p in _generations(path) if p.name[4:].isdigit()]
    if manifest:
        numbers.append(int(manifest["generation"][4:]))
    gen = path / f"gen-{max(numbers, default=0) + 1:06d}"
    gen.mkdir()
    return gen


def _clean(path: Path, keep: set[str]) -> None:
    """Remove generations and temp files no manifest refers to (debris of killed builds)."""
    for gen in _generations(path):
        if gen.name not in keep:
            shutil.rmtree(gen, ignore_errors=True)
    for tmp in path.glob(f".{MANIFEST}.*.tmp"):
        tmp.unlink(missing_ok=True)


def _current_manifest(path: Path) -> dict | None:
    try:
        return read_manifest(path)
    except ErqiSearchError:
        return None


def _write_query_dict(ix, gen: Path) -> None:
    """Store the compact dictionary that query segmentation needs (see dictionary.py)."""
    from .dictionary import compact_table, full_segmenter

    with ix.reader() as reader:
        vocab = set()
        for fieldname in ("content", "title", "section_words"):
            vocab.update(t.decode("utf-8") for t in reader.lexicon(fieldname))
    table = compact_table(full_segmenter(), vocab)
    (gen / QUERY_DICT).write_bytes(marshal.dumps(table))


def _copy_figures(old: Path | None, new, deletes: set[str]) -> None:
    """Carry the figures of the reports an update keeps into the new generation."""
    if old is None or not old.is_file():
        return
    with open(old, encoding="utf-8") as handle:
        for line in handle:
            if json.loads(line)["doc_id"] not in deletes:
                new.write(line)


def _write(ix_dir: Path, results: Iterator[_FileResult], report: BuildReport, files: dict,
           total: int, progress, warn, deletes: Iterable[str] = (), create: bool = True,
           old_figures: Path | None = None) -> None:
    """Write analysed files into the Whoosh index at ``ix_dir`` and commit;
    stream their figures into ``figures.jsonl`` beside it."""
    from whoosh import index as windex

    ix = windex.create_in(str(ix_dir), build_schema()) if create else windex.open_dir(str(ix_dir))
    # separate files, not one compound file: Whoosh copies a compound file's parts
    # into memory on every open (a second and a gigabyte on the full corpora)
    writer = ix.writer(limitmb=128, codec=compact_codec(), compound=False)
    deletes = list(deletes)
    figures = open(ix_dir / FIGURES, "w", encoding="utf-8")
    try:
        _copy_figures(old_figures, figures, set(deletes))
        for doc_id in deletes:
            writer.delete_by_term("doc_id", doc_id)
        start, done = time.monotonic(), 0
        for result in results:
            done += 1
            if result.error:
                report.skip(result.path, result.error, warn)
            for doc in result.docs:
                writer.add_document(**doc)
            for figure in result.figures:
                figures.write(json.dumps(figure, ensure_ascii=False) + "\n")
            report.passages += len(result.docs)
            report.characters += result.characters
            # skipped files are recorded too, so that update and status know them
            files[result.path] = {
                "doc_id": result.doc_id,
                "sha256": result.sha256 or _sha_or_dash(result.path),
                "size": result.size,
                "mtime_ns": result.mtime_ns,
                "passages": len(result.docs),
                **({"skipped": result.error} if result.error else {}),
            }
            if progress:
                progress(Progress(done, total, report.passages, report.characters, time.monotonic() - start))
        # with deletions, merge everything so statistics equal a fresh build's
        writer.commit(optimize=bool(deletes))
    except BaseException:
        writer.cancel()
        raise
    finally:
        figures.close()
    _write_query_dict(ix, ix_dir)
    ix.close()


def _publish(path: Path, gen: Path, sources: list[str], files: dict, report: BuildReport,
             started: float, previous: dict | None) -> None:
    report.generation = gen.name
    report.documents = sum(1 for f in files.values() if "skipped" not in f)
    report.passages = sum(f["passages"] for f in files.values())
    report.seconds = round(time.monotonic() - started, 3)
    manifest = {
        **expected_identity(),
        "generation": gen.name,
        "previous_generation": previous["generation"] if previous else None,
        "versions": library_versions(),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": report.seconds,
        "documents": report.documents,
        "passages": report.passages,
        "sources": sources,
        "files": files,
        "generation_files": generation_files(gen),
    }
    write_manifest(path, manifest)
    _clean(path, {gen.name, manifest["previous_generation"] or ""})


def _prepare(path) -> Path:
    path = Path(path) if path is not None else default_index_path()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ErqiSearchError(f"cannot create the index directory {path}: {err.strerror}") from None
    return path


def check_sources(sources) -> list[str]:
    """The sources as real paths, after checking that each exists and can be read.

    Raises :class:`SourceNotFound` (nothing is changed) for a mistyped, moved or
    unreadable source, so a typo can never publish an empty index.
    """
    checked = []
    for source in sources:
        real = os.path.realpath(source)
        if not os.path.exists(real):
            raise SourceNotFound(source, "does not exist (check the path; a moved folder must be given anew)")
        try:
            if os.path.isdir(real):
                os.scandir(real).close()
            elif not os.access(real, os.R_OK):
                raise PermissionError(13, "permission denied")
        except OSError as err:
            raise SourceNotFound(source, f"cannot be read ({err.strerror or err})") from None
        checked.append(real)
    return checked


def _jobs(jobs: int | None) -> int:
    return jobs or os.cpu_count() or 1


def build_index(sources=None, path=None, *, jobs: int | None = None,
                progress: Callable[[Progress], None] | None = None,
                warn: Callable[[str], None] | None = None, lock_wait: float = 0.0) -> BuildReport:
    """Build a fresh index of ``sources`` (default ``seeds/``) at ``path`` and
    publish it atomically, replacing any index there.

    Raises :class:`SourceNotFound` when a source is missing or unreadable, or
    when no report under the sources can be read: the index is left as it was.
    """
    started = time.monotonic()
    warn = warn or (lambda message: None)
    sources = check_sources(sources or DEFAULT_SOURCES)
    path = _prepare(path)
    with IndexLock(path, lock_wait):
        previous = _current_manifest(path)
        _clean(path, {previous["generation"], previous.get("previous_generation") or ""} if previous else set())
        report = BuildReport(str(path), "", 0, 0)
        items = _scan(sources, lambda where, reason: report.skip(where, reason, warn))
        if not items:
            raise SourceNotFound(", ".join(sources), "holds no .txt, .md or .html reports")
        gen = _new_generation(path, previous)
        files: dict = {}
        try:
            _write(gen, analyze_files(items, _jobs(jobs)), report, files, len(items), progress, warn)
            if not any("skipped" not in f for f in files.values()):
                raise SourceNotFound(", ".join(sources), f"holds no readable report ({len(items)} files skipped)")
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        report.added = [f["doc_id"] for f in files.values() if "skipped" not in f]
        _publish(path, gen, sources, files, report, started, previous)
    return report


def rebuild_index(path=None, sources=None, **options) -> BuildReport:
    """Rebuild from ``sources``, or from the sources recorded in the index's manifest."""
    path = Path(path) if path is not None else default_index_path()
    if not sources:
        sources = read_manifest(path)["sources"]
    return build_index(sources, path, **options)


def update_index(path=None, sources=None, *, jobs: int | None = None, progress=None, warn=None,
                 lock_wait: float = 0.0, allow_empty_source: bool = False) -> BuildReport:
    """Bring the index up to date with its sources: add new and changed files,
    delete removed ones, leave the rest; publish atomically.

    A source that no longer exists is an error (:class:`SourceNotFound`); one
    that exists but would lose every report it held is refused
    (:class:`UnsafeUpdate`) unless ``allow_empty_source`` is true.
    """
    started = time.monotonic()
    warn = warn or (lambda message: None)
    path = Path(path) if path is not None else default_index_path()
    with IndexLock(_prepare(path), lock_wait):
        manifest = read_manifest(path)
        sources = check_sources(sources or manifest["sources"])
        _clean(path, {manifest["generation"], manifest.get("previous_generation") or ""})
        report = BuildReport(str(path), manifest["generation"], manifest["documents"], manifest["passages"])
        items = _scan(sources, lambda where, reason: report.skip(where, reason, warn))
        recorded = manifest["files"]
        if not allow_empty_source:
            _refuse_emptied_sources(sources, items, recorded)
        added, changed, unchanged = _changed_files(items, recorded)
        scanned = {i[0] for i in items}
        removed = [p for p in recorded if p not in scanned]
        report.unchanged = unchanged
        report.removed = [recorded[p]["doc_id"] for p in removed]
        if not (added or changed or removed):
            return report
        gen = _new_generation(path, manifest)
        old = path / manifest["generation"]
        for file in old.iterdir():
            if file.is_file() and not file.name.endswith("LOCK") and file.name not in (QUERY_DICT, FIGURES):
                os.link(file, gen / file.name)
        files = {p: f for p, f in recorded.items() if p in scanned}
        deletes = [recorded[p]["doc_id"] for p in removed] + [recorded[i[0]]["doc_id"] for i in changed]
        for p in removed:
            files.pop(p, None)
        work = changed + added
        report.passages = 0
        _write(gen, analyze_files(work, _jobs(jobs)), report, files, len(work), progress,
               warn, deletes=deletes, create=False, old_figures=old / FIGURES)
        indexed = {p for p, f in files.items() if "skipped" not in f}
        report.added = [i[2] for i in added if i[0] in indexed]
        report.changed = [i[2] for i in changed if i[0] in indexed]
        # a changed file that can no longer be read has lost its passages
        report.removed += [i[2] for i in changed if i[0] not in indexed and "skipped" not in recorded[i[0]]]
        _publish(path, gen, sources, files, report, started, manifest)
    return report


def _refuse_emptied_sources(sources: list[str], items, recorded: dict) -> None:
    """Raise :class:`UnsafeUpdate` when a source that held reports now holds none."""
    for source in sources:
        inside = source.rstrip(os.sep) + os.sep
        held = [p for p, f in recorded.items() if (p == source or p.startswith(inside)) and "skipped" not in f]
        if held and not any(i[0] == source or i[0].startswith(inside) for i in items):
            raise UnsafeUpdate(
                f"the update would remove all {len(held)} reports of {source}, which now holds none; "
                "nothing was changed (check the path, or pass --allow-empty-source to remove them)"
            )


def index_status(path=None) -> IndexStatus:
    """Counts, size, versions and staleness of the index at ``path``."""
    path = Path(path) if path is not None else default_index_path()
    manifest = read_manifest(path)
    gen = path / manifest["generation"]
    size = sum(f.stat().st_size for f in gen.iterdir() if f.is_file())
    missing = [s for s in manifest["sources"] if not os.path.exists(s)]
    items = _scan([s for s in manifest["sources"] if s not in missing])
    added, changed, _ = _changed_files(items, manifest["files"])
    scanned = {i[0] for i in items}
    stale = [i[0] for i in added + changed] + [p for p in manifest["files"] if p not in scanned]
    return IndexStatus(
        path=str(path),
        generation=manifest["generation"],
        documents=manifest["documents"],
        passages=manifest["passages"],
        size_bytes=size,
        built_at=manifest["built_at"],
        build_seconds=manifest["build_seconds"],
        versions={**manifest["versions"], "analyzer": manifest["analyzer_version"],
                  "dictionary": manifest["dictionary_hash"], "format": manifest["format_version"]},
        sources=manifest["sources"],
        stale=stale,
        missing_sources=missing,
    )


__all__ = [
    "BuildReport", "IndexStatus", "Progress", "IndexLock", "FORMAT_VERSION",
    "build_index", "update_index", "rebuild_index", "index_status", "default_index_path",
]
