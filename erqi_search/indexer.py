"""Build, update and rebuild indexes: sources, workers, generations, progress.

A write scans the sources, splits the files into contiguous ranges (one per
worker, balanced by size) and lets each worker read, cut and analyse its
reports and hand them to its own partition writer of the engine (for the
embedded engine: its own segments). The commit lists the partitions in file
order, so document numbers and results equal a single-process build. Each
write fills a new generation of the store and publishes it by replacing
``manifest.json`` atomically; a killed write leaves the published index
untouched and the next write removes the debris.

>>> import tempfile
>>> report = build_index(["seeds"], tempfile.mkdtemp() + "/ix", jobs=1)
>>> report.documents, report.passages > 100
(5, True)
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import queue
import shutil
import signal
import stat as stat_module
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from . import store
from .engines import default_engine, engine_kind, engine_writer
from .errors import ErqiSearchError, SourceNotFound, UnreadableReport, UnsafeUpdate
from .ingest import find_report_files, read_report, template_tails_by_directory
from .model import BuildReport, IndexStatus, Progress
from .passages import cut_passages

Warn = Callable[[str], None]


# ------------------------------------------------------------------ sources

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


def _scan(sources: Iterable, skip=None, taken: Iterable[str] = ()) -> list[tuple[str, dict | None, str]]:
    """Every report file under the sources (each once), with its metadata row
    and a doc_id unique among them and the ``taken`` ones."""
    items, used, seen = [], set(taken), set()
    for path, meta in find_report_files(sources, skip):
        where = os.path.abspath(path)  # links are kept as named, so a warning names them
        if where in seen:
            continue
        seen.add(where)
        doc_id = path.stem
        if doc_id in used:
            doc_id = f"{doc_id}~{hashlib.sha1(where.encode()).hexdigest()[:6]}"
        used.add(doc_id)
        items.append((where, meta, doc_id))
    return items


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _joined_sources(recorded: list[str], given: list[str]) -> list[str]:
    """The recorded sources with the given ones added, none inside another."""
    joined = list(dict.fromkeys(recorded + given))
    return [s for s in joined if not any(o != s and _inside(s, o) for o in joined)]


def _boilerplate(shapes: dict[str, frozenset[str]]) -> dict[str, list[str]]:
    """The manifest's record of template tails: directory -> shapes, where there are any."""
    return {d: sorted(found) for d, found in sorted(shapes.items()) if found}


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


def _changed_files(items, recorded: dict, restat: dict | None = None) -> tuple[list, list, int]:
    """Split scanned files into added, changed and unchanged (by sha256).
    Into ``restat`` go the ``(size, mtime_ns)`` of unchanged files whose stat
    changed (touched, copied), so the next update need not hash them again."""
    added, changed, unchanged = [], [], 0
    for item in items:
        old = recorded.get(item[0])
        if old is None:
            added.append(item)
            continue
        try:
            info = os.stat(item[0])
        except OSError:
            changed.append(item)
            continue
        same_stat = (info.st_size, info.st_mtime_ns) == (old.get("size"), old.get("mtime_ns"))
        if same_stat or _file_sha(item[0]) == old.get("sha256"):
            unchanged += 1
            if not same_stat and restat is not None:
                restat[item[0]] = (info.st_size, info.st_mtime_ns)
        else:
            changed.append(item)
    return added, changed, unchanged


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


# ------------------------------------------------------------------ workers

def _warm_up() -> None:
    """Load the dictionary and IDF table once, before worker processes fork."""
    from .analysis import _idf
    from .dictionary import full_segmenter

    full_segmenter()
    _idf()


#: Told ``(files, passages, characters)`` as each file is done: the parent's
#: progress function, or a worker's queue to the parent.
_PROGRESS: Callable = lambda step: None


def _init_worker(progress_queue, writer_pid: int) -> None:
    global _PROGRESS
    _PROGRESS = progress_queue.put
    _die_with(writer_pid)


def _die_with(writer_pid: int) -> None:
    """Have the kernel kill this worker when the writer dies (Linux
    ``PR_SET_PDEATHSIG``). A worker outliving a killed writer blocks for ever
    on its queues and keeps the index lock it was forked with, so no write
    could start again; killed with it, the lock goes too."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the stopped-build message says to wait
        return
    if os.getppid() != writer_pid:  # the writer died before the request took effect
        os._exit(1)


#: The side files a write fills beside the engine's postings, report by report.
SIDE_FILES = (store.FIGURES, store.ALIAS_CANDIDATES)


def _analyze_file(item, writer, sides: dict, tails: dict | None = None) -> dict:
    """Read (leaving out the template tails of its directory, ``tails``:
    directory -> shapes), cut and analyse one file into
    ``writer`` and its figures and alias candidates into ``sides``; any failure
    skips the file with its reason. Returns the file's record for ``sources.json``."""
    from .aliases import candidates
    from .analysis import analyze_passages
    from .figures import extract_figures

    path, meta, doc_id = item
    try:
        info = os.stat(path)
        size, mtime = info.st_size, info.st_mtime_ns
    except OSError:
        size, mtime = 0, 0
    record = {"doc_id": doc_id, "size": size, "mtime_ns": mtime, "passages": 0}
    try:
        report = read_report(path, meta, (tails or {}).get(str(Path(path).parent), frozenset()))
        report.doc_id = doc_id
        analyzed = analyze_passages(report, cut_passages(report))
        writer.add(report, analyzed)
        for a in analyzed:
            p = a.passage
            for f in extract_figures(p.text, year=p.year, passage_id=p.passage_id, doc_id=doc_id,
                                     context=p.title):
                store.ReportLines.write_one(sides[store.FIGURES], {**f.as_dict(), "region": report.region})
            for alias, full, sentence in candidates(p.text):
                store.ReportLines.write_one(sides[store.ALIAS_CANDIDATES],
                                            {"doc_id": doc_id, "alias": alias, "full": full, "sentence": sentence})
    except UnreadableReport as err:
        return {**record, "sha256": _sha_or_dash(path), "skipped": err.reason}
    except Exception as err:  # noqa: BLE001 - one bad file must not stop a build
        return {**record, "sha256": _sha_or_dash(path),
                "skipped": f"it could not be analysed ({type(err).__name__}: {err})"}
    record.update(sha256=report.sha256, passages=len(analyzed), characters=sum(len(a.passage.text) for a in analyzed))
    return record


def _run_partition(task) -> tuple[list[dict], list]:
    """A worker's whole range: its files' records and what its writer wrote."""
    index, items, writer, side_files, tails = task
    records = []
    sides = {name: open(side_files[name], "w", encoding="utf-8") for name in SIDE_FILES}
    try:
        for item in items:
            record = _analyze_file(item, writer, sides, tails)
            records.append(record)
            _PROGRESS((1, record["passages"], record.get("characters", 0)))
    finally:
        for handle in sides.values():
            handle.close()
    return records, writer.finish()


def _partitions(items: list, jobs: int) -> list[list]:
    """``items`` cut into at most ``jobs`` contiguous ranges of about equal size."""
    if jobs <= 1 or len(items) <= 1:
        return [items] if items else []
    sizes = []
    for path, _, _ in items:
        try:
            sizes.append(max(os.path.getsize(path), 1))
        except OSError:
            sizes.append(1)
    target = sum(sizes) / jobs
    ranges, start, acc = [], 0, 0
    for i, size in enumerate(sizes):
        acc += size
        if acc >= target * (len(ranges) + 1) and len(ranges) < jobs - 1 and i + 1 < len(items):
            ranges.append(items[start : i + 1])
            start = i + 1
    ranges.append(items[start:])
    return [r for r in ranges if r]


def _analyze_all(items: list, writer, gen: Path, jobs: int, progress, tails: dict):
    """Run the partitions (in worker processes when ``jobs > 1``); return the
    file records in file order, what each partition wrote, and the figure files."""
    parts = _partitions(items, jobs)
    tasks = [(i, part, writer.partition(i), {name: gen / f".{name}-{i}" for name in SIDE_FILES}, tails)
             for i, part in enumerate(parts)]
    started, done = time.monotonic(), [0, 0, 0]

    def tick(step) -> None:
        for k in range(3):
            done[k] += step[k]
        if progress:
            progress(Progress(done[0], len(items), done[1], done[2], time.monotonic() - started))

    _warm_up()
    if len(tasks) <= 1:
        global _PROGRESS
        _PROGRESS = tick
        try:
            results = [_run_partition(task) for task in tasks]
        finally:
            _PROGRESS = lambda step: None
    else:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        channel = context.Queue()
        with ProcessPoolExecutor(len(tasks), mp_context=context, initializer=_init_worker,
                                 initargs=(channel, os.getpid())) as pool:
            futures = [pool.submit(_run_partition, task) for task in tasks]
            while not all(f.done() for f in futures):
                try:
                    tick(channel.get(timeout=0.2))
                except queue.Empty:
                    pass
                except (EOFError, OSError):
                    break
            results = [f.result() for f in futures]
            while True:
                try:
                    tick(channel.get_nowait())
                except (queue.Empty, EOFError, OSError):
                    break
    records = [r for records, _ in results for r in records]
    written = [w for _, w in results]
    return records, written, [t[3] for t in tasks]


def _collect_sides(gen: Path, parts: list[dict], old_gen: Path | None = None,
                   deleted: set[str] = frozenset()) -> dict:
    """Join the partitions' side files (and an update's kept lines) in the
    generation; mine the aliases; return the manifest's ``aliases_hash``."""
    from .aliases import alias_classes, mine

    for name in SIDE_FILES:
        lines = store.ReportLines(gen, name)
        with lines.writer() as out:
            if old_gen is not None:
                lines.copy_kept(out, old_gen, set(deleted))
            for part in parts:
                with open(part[name], encoding="utf-8") as source:
                    shutil.copyfileobj(source, out)
                part[name].unlink()
    with store.ReportLines(gen, store.ALIAS_CANDIDATES).open() as handle:
        found = [(r["doc_id"], r["alias"], r["full"], r["sentence"]) for r in store.read_lines(handle)]
    mined = mine(found)
    return {"aliases_hash": store.write_aliases(gen, mined, alias_classes(mined))}


# -------------------------------------------------------------------- writes

def _prepare(path) -> Path:
    path = Path(path) if path is not None else store.default_index_path()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ErqiSearchError(f"cannot create the index directory {path}: {err.strerror}") from None
    return path


def _jobs(jobs: int | None) -> int:
    return jobs or os.cpu_count() or 1


def _file_entry(item, record: dict) -> dict:
    entry = {k: record[k] for k in ("doc_id", "sha256", "size", "mtime_ns", "passages")}
    if "skipped" in record:
        entry["skipped"] = record["skipped"]
    return entry


def _publish(path: Path, gen: Path, engine: str | None, sources: list[str], files: dict, report: BuildReport,
             started: float, previous: dict | None, extra: dict) -> None:
    report.generation = gen.name
    report.documents = sum(1 for f in files.values() if "skipped" not in f)
    report.passages = sum(f["passages"] for f in files.values())
    report.seconds = round(time.monotonic() - started, 3)
    store.write_json(gen / store.SOURCES_FILE, files, compact=True)
    manifest = {
        **store.expected_identity(),
        "engine": engine or "embedded",
        "generation": gen.name,
        "previous_generation": previous["generation"] if previous else None,
        "versions": store.library_versions(),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": report.seconds,
        "documents": report.documents,
        "passages": report.passages,
        "sources": sources,
        **extra,
        "generation_files": store.generation_files(gen),
    }
    store.write_manifest(path, manifest)
    store.clean(path, {gen.name, manifest["previous_generation"] or ""})


def _write_query_dictionary(gen: Path) -> dict:
    from .dictionary import full_segmenter, write_query_dictionary

    return {"query_dictionary_total": write_query_dictionary(gen / store.QUERY_DICT, full_segmenter())}


def build_index(sources=None, path=None, *, jobs: int | None = None,
                progress: Callable[[Progress], None] | None = None,
                warn: Warn | None = None, lock_wait: float = 0.0, engine: str | None = None) -> BuildReport:
    """Build a fresh index of ``sources`` (default ``seeds/``) at ``path`` and
    publish it atomically, replacing any index there. ``engine`` is an engine
    URL (default ``$ERQI_SEARCH_ENGINE`` or the embedded engine).

    Raises :class:`SourceNotFound` when a source is missing or unreadable, or
    when no report under the sources can be read: the index is left as it was.
    """
    started = time.monotonic()
    warn = warn or (lambda message: None)
    engine = engine or default_engine()
    engine_kind(engine)
    sources = check_sources(sources or store.DEFAULT_SOURCES)
    path = _prepare(path)
    with store.IndexLock(path, lock_wait):
        previous = store.current_manifest(path)
        store.clean(path, store.kept_generations(previous))
        report = BuildReport(str(path), "", 0, 0)
        items = _scan(sources, lambda where, reason: report.skip(where, reason, warn))
        if not items:
            raise SourceNotFound(", ".join(sources), "holds no .txt, .md or .html reports")
        gen = store.new_generation(path, previous)
        try:
            writer = engine_writer(engine, gen, None, previous)
            shapes = template_tails_by_directory(items)
            records, written, side_parts = _analyze_all(items, writer, gen, _jobs(jobs), progress, shapes)
            files = {}
            for item, record in zip(items, records):
                if "skipped" in record:
                    report.skip(item[0], record["skipped"], warn)
                files[item[0]] = _file_entry(item, record)
            if not any("skipped" not in f for f in files.values()):
                raise SourceNotFound(", ".join(sources), f"holds no readable report ({len(items)} files skipped)")
            report.characters = sum(r.get("characters", 0) for r in records)
            described = writer.commit(written)
            report.segments = len(described.get("segments", []))
            extra = {**_collect_sides(gen, side_parts), **_write_query_dictionary(gen), **described.get("manifest", {}),
                     "boilerplate": _boilerplate(shapes), "figures_rules": [store.figure_rules()]}
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        report.added = [f["doc_id"] for f in files.values() if "skipped" not in f]
        _publish(path, gen, engine, sources, files, report, started, previous, extra)
    return report


def rebuild_index(path=None, sources=None, **options) -> BuildReport:
    """Rebuild from ``sources``, or from the sources recorded in the index's manifest."""
    path = Path(path) if path is not None else store.default_index_path()
    if not sources or "engine" not in options:
        manifest = store.read_manifest(path)
        sources = sources or manifest["sources"]
        options.setdefault("engine", manifest.get("engine"))
    return build_index(sources, path, **options)


def update_index(path=None, sources=None, *, jobs: int | None = None, progress=None, warn=None,
                 lock_wait: float = 0.0, allow_empty_source: bool = False) -> BuildReport:
    """Bring the index up to date with its sources: add new and changed files,
    delete removed ones, leave the rest; publish atomically. New and changed
    reports go into a new small segment; deletions are marked; the merge
    policy merges small segments, never the whole index for one file.

    ``sources`` (default: the recorded ones) limits the update to the files
    under them and adds them to the recorded sources; files of other
    recorded sources are left as they are. So ``update_index(path, ["new/"])``
    adds a folder to an index (to replace the sources, rebuild with them).

    A source that no longer exists is an error (:class:`SourceNotFound`); one
    that exists but would lose every report it held is refused
    (:class:`UnsafeUpdate`) unless ``allow_empty_source`` is true.
    """
    started = time.monotonic()
    warn = warn or (lambda message: None)
    path = Path(path) if path is not None else store.default_index_path()
    with store.IndexLock(_prepare(path), lock_wait):
        manifest = store.read_manifest(path)
        engine = manifest.get("engine")
        roots = check_sources(sources or manifest["sources"])
        for source in manifest["sources"]:
            if sources and not os.path.exists(source):
                raise SourceNotFound(source, "no longer exists: an update adds the sources it is given, so to "
                                             "follow a moved folder run: erqi-search index rebuild NEW_PATH")
        store.clean(path, store.kept_generations(manifest))
        report = BuildReport(str(path), manifest["generation"], manifest["documents"], manifest["passages"])
        recorded = store.read_sources(path, manifest)
        in_scope = {p: f for p, f in recorded.items() if any(_inside(p, root) for root in roots)}
        kept_ids = [f["doc_id"] for p, f in recorded.items() if p not in in_scope]
        items = _scan(roots, lambda where, reason: report.skip(where, reason, warn), kept_ids)
        if not allow_empty_source:
            _refuse_emptied_sources(roots, items, in_scope)
        restat: dict[str, tuple[int, int]] = {}
        added, changed, unchanged = _changed_files(items, in_scope, restat)
        scanned = {i[0] for i in items}
        removed = [p for p in in_scope if p not in scanned]
        changed, unchanged, shapes = _recut_for_new_templates(manifest, items, added, changed, removed, unchanged)
        tails = {directory: frozenset(found) for directory, found in shapes.items()}
        report.unchanged = unchanged
        report.removed = [recorded[p]["doc_id"] for p in removed if "skipped" not in recorded[p]]
        if not (added or changed or removed):
            return report
        old = path / manifest["generation"]
        gen = store.new_generation(path, manifest)
        try:
            writer = engine_writer(engine, gen, old, manifest)
            deletes = {recorded[p]["doc_id"] for p in removed} | {recorded[i[0]]["doc_id"] for i in changed}
            writer.delete(deletes)
            work = changed + added
            records, written, side_parts = _analyze_all(work, writer, gen, _jobs(jobs), progress, tails)
            files = {p: f for p, f in recorded.items() if p in scanned or p not in in_scope}
            for p, (size, mtime_ns) in restat.items():
                files[p] = {**files[p], "size": size, "mtime_ns": mtime_ns}
            for item, record in zip(work, records):
                if "skipped" in record:
                    report.skip(item[0], record["skipped"], warn)
                files[item[0]] = _file_entry(item, record)
            report.characters = sum(r.get("characters", 0) for r in records)
            described = writer.commit(written)
            report.segments = len(described.get("segments", []))
            extra = {**_collect_sides(gen, side_parts, old, deletes), **described.get("manifest", {}),
                     "boilerplate": shapes,  # the figures of files not read again keep the rules that found them
                     "figures_rules": sorted({*manifest.get("figures_rules", [store.UNRECORDED]), store.figure_rules()})}
            os.link(old / store.QUERY_DICT, gen / store.QUERY_DICT)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        indexed = {p for p, f in files.items() if "skipped" not in f}
        report.added = [i[2] for i in added if i[0] in indexed]
        report.changed = [i[2] for i in changed if i[0] in indexed]
        # a changed file that can no longer be read has lost its passages
        report.removed += [i[2] for i in changed if i[0] not in indexed and "skipped" not in recorded[i[0]]]
        extra["query_dictionary_total"] = manifest["query_dictionary_total"]
        joined = _joined_sources(manifest["sources"], roots) if sources else roots
        _publish(path, gen, engine, joined, files, report, started, manifest, extra)
    return report


def _recut_for_new_templates(manifest: dict, items: list, added: list, changed: list, removed: list,
                             unchanged: int) -> tuple[list, int, dict]:
    """Template tails of the directories an update touches, judged again: where
    they changed, every file of the directory is cut anew (it joins
    ``changed``). Returns ``changed``, ``unchanged`` and the manifest's new
    record of template tails."""
    recorded = manifest.get("boilerplate")
    if not isinstance(recorded, dict):  # an index of 0.2.0's first builds: judge every directory
        recorded, touched = {}, {os.path.dirname(i[0]) for i in items}
    else:
        touched = {os.path.dirname(p) for p in [i[0] for i in added + changed] + removed}
    fresh = template_tails_by_directory(os.path.join(d, "-") for d in touched)
    recut = {d for d in touched if sorted(fresh.get(d, ())) != recorded.get(d, [])}
    known = {i[0] for i in added + changed}
    again = [i for i in items if os.path.dirname(i[0]) in recut and i[0] not in known]
    shapes = {d: s for d, s in recorded.items() if d not in touched} | _boilerplate(fresh)
    return changed + again, unchanged - len(again), dict(sorted(shapes.items()))


def index_status(path=None) -> IndexStatus:
    """Counts, size, versions and staleness of the index at ``path``."""
    path = Path(path) if path is not None else store.default_index_path()
    manifest = store.read_manifest(path)
    gen = path / manifest["generation"]
    size = sum(f.stat().st_size for f in gen.iterdir() if f.is_file())
    missing = [s for s in manifest["sources"] if not os.path.exists(s)]
    recorded = store.read_sources(path, manifest)
    items = _scan([s for s in manifest["sources"] if s not in missing])
    added, changed, _ = _changed_files(items, recorded)
    scanned = {i[0] for i in items}
    stale = [i[0] for i in added + changed] + [p for p in recorded if p not in scanned]
    segments = 0
    segments_file = gen / "segments.json"
    if segments_file.is_file():
        segments = len(json.loads(segments_file.read_text(encoding="utf-8"))["segments"])
    return IndexStatus(
        path=str(path),
        generation=manifest["generation"],
        engine=manifest.get("engine", "embedded"),
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
        segments=segments,
        boilerplate=_shapes_listed(manifest.get("boilerplate")),
        figures_current=store.figures_current(manifest),
    )


def _shapes_listed(recorded) -> list[str]:
    """Every template tail shape the manifest records, once each."""
    if isinstance(recorded, dict):
        return sorted({shape for found in recorded.values() for shape in found})
    return list(recorded or [])


__all__ = ["BuildReport", "IndexStatus", "Progress", "build_index", "update_index", "rebuild_index",
           "index_status", "check_sources"]
