"""The ``erqi-search`` command: parses arguments, calls the library, prints.

Results go to stdout; progress, warnings, summaries and errors to stderr.
Exit codes: 0 success (also when nothing is found), 1 runtime failure,
2 usage or query syntax error.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import click

from . import __version__
from .errors import ErqiSearchError

FORMATS = click.Choice(["text", "json", "html"])


class _Group(click.Group):
    """Turns every failure into one line on stderr and its exit code: our own
    errors (1, or 2 for query syntax), click's usage errors (2), a closed pipe
    (quiet, 141 as for ``cat``) and an interrupt (130)."""

    def main(self, *args, **kwargs):
        try:
            kwargs.pop("standalone_mode", None)
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as err:
            where = err.ctx.command_path if err.ctx else "erqi-search"
            click.echo(f"Error: {err.format_message()} (see: {where} --help)", err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            click.echo(f"Error: {err.format_message()}", err=True)
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo("Error: interrupted", err=True)
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ErqiSearchError as err:
            click.echo(f"Error: {err}", err=True)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(141)
        except OSError as err:
            where = f" ({err.filename})" if getattr(err, "filename", None) else ""
            click.echo(f"Error: {err.strerror or err}{where}", err=True)
            ctx.exit(1)


def _silence_stdout() -> None:
    """After the reader of a pipe went away (``| head``): no more writes, no message."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _index_option(func):
    return click.option(
        "--index", "index_path", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Index directory (default: $ERQI_SEARCH_INDEX or ./index).",
    )(func)


def _jobs_quiet(func):
    func = click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
                        help="Worker processes for analysis (default: all cores).")(func)
    return click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr.")(func)


def _resolve(index_path: Path | None) -> tuple[Path, bool]:
    """The index path, and whether it is the default one (which may build itself)."""
    from .store import default_index_path

    if index_path is not None:
        return index_path, False
    return default_index_path(), not os.environ.get("ERQI_SEARCH_INDEX")


def _open(index_path: Path | None):
    """Open the index; the default index builds itself from ./seeds on first use."""
    from .store import DEFAULT_SOURCES, require_index
    from .search import open_index

    path, is_default = _resolve(index_path)
    if is_default and not (path / "manifest.json").exists() and Path(DEFAULT_SOURCES[0]).is_dir():
        from .indexer import build_index

        click.echo(f"No index yet: building {path}/ from {DEFAULT_SOURCES[0]}/ (first use) ...", err=True)
        build_index(DEFAULT_SOURCES, path, warn=_warn, engine=_engine())
    else:
        require_index(path)
    return open_index(path, engine=_engine())


def _engine() -> str | None:
    """The --engine URL given to the command (None: the index's own, or embedded)."""
    ctx = click.get_current_context(silent=True)
    return (ctx.find_root().params.get("engine") if ctx else None) or None


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


class _ProgressLine:
    """Progress on stderr (files, passages, rate, ETA), only on a terminal."""

    def __init__(self, quiet: bool):
        self.enabled = not quiet and sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and p.files_done < p.files_total):
            return
        self.last = now
        rate = p.files_done / p.elapsed if p.elapsed > 0 else 0.0
        eta = (p.files_total - p.files_done) / rate if rate > 0 else 0.0
        click.echo(
            f"\r{p.files_done}/{p.files_total} files · {p.passages} passages · "
            f"{p.characters / max(p.elapsed, 1e-9) / 1000:.0f}k chars/s · ETA {eta:.0f}s   ",
            err=True, nl=False,
        )

    def done(self) -> None:
        if self.enabled:
            click.echo("", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="erqi-search")
@click.option("--engine", envvar="ERQI_SEARCH_ENGINE", default=None, metavar="URL",
              help="Search engine: the embedded one (default) or sphinx://HOST:PORT?cluster=FILE "
                   "(also: ERQI_SEARCH_ENGINE).")
@click.pass_context
def main(ctx, engine):
    """Full-text search for Chinese policy reports.

    \b
    Quick start (searches ./seeds, building ./index on first use):
      erqi-search search 大气污染防治
    """


# ------------------------------------------------------------------ search

@main.command()
@click.argument("query")
@_index_option
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True, help="Hits per page.")
@click.option("--page", "-p", type=click.IntRange(1), default=1, show_default=True, help="Page of hits, from 1.")
@click.option("--year", "-y", type=click.IntRange(1000, 9999), default=None, help="Only passages of this year.")
@click.option("--section", "-s", default=None, help="Only passages under headings with these words.")
@click.option("--format", "-f", "fmt", type=FORMATS, default="text", show_default=True, help="Output format.")
@click.option("--facets", is_flag=True, help="Count hits by year and top-level section.")
@click.option("--region", "-r", default=None, help="Only passages of reports of this region.")
@click.option("--no-synonyms", is_flag=True, help="Do not expand terms with their synonyms and variants.")
@click.option("--no-aliases", is_flag=True, help="Do not expand terms with their mined and curated aliases.")
@click.option("--explain", is_flag=True, help="Say which terms, synonyms and aliases each hit matched, and where.")
@click.option("--no-color", is_flag=True, help="No colour (also: NO_COLOR, or when stdout is not a terminal).")
def search(query, index_path, limit, page, year, section, fmt, facets, region, no_synonyms, no_aliases, explain,
           no_color):
    """Search passages for QUERY (see docs/query-syntax.md)."""
    from .present import render_html, render_json, render_text

    started = time.monotonic()
    with _open(index_path) as index:
        results = index.search(query, year=year, section=section, region=region, limit=limit, page=page,
                               facets=facets, synonyms=not no_synonyms, aliases=not no_aliases, explain=explain)
    if fmt == "json":
        click.echo(render_json(results))
    elif fmt == "html":
        click.echo(render_html(results))
    elif results.hits or results.facets:
        color = not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()
        click.echo(render_text(results, color=color))
    for line in [results.hint, *results.notes]:
        if line:
            click.echo(line, err=True)
    if results.partial:
        _warn("part of the distributed index did not answer (a shard with no live copy): the results are incomplete")
    found = "no results" if not results.total else f"{results.total} result{'s' if results.total > 1 else ''}"
    click.echo(f"{found}, page {results.page}, {len(results.hits)} shown ({time.monotonic() - started:.3f}s)",
               err=True)


# -------------------------------------------------------------------- show

@main.command()
@click.argument("ident", metavar="ID")
@_index_option
@click.option("--context", "-C", type=click.IntRange(0, 20), default=1, show_default=True,
              help="Neighbouring passages shown around a passage.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(ident, index_path, context, fmt):
    """Print a passage (with its neighbours) or a whole report, by ID."""
    from .present import passage_to_dict

    with _open(index_path) as index:
        shown, focus = index.neighbours(ident, context)
    if not shown:
        raise ErqiSearchError(f"no passage or report with id {ident!r}; ids are shown by search and inspect")
    if fmt == "json":
        click.echo(json.dumps([passage_to_dict(p) for p in shown], ensure_ascii=False, indent=2))
        return
    first = shown[0]
    click.echo(f"{first.title} ({first.year if first.year is not None else '----'})  [{first.doc_id}]")
    for p in shown:
        marker = ">>" if p.passage_id == focus else "  "
        click.echo(f"\n{marker} [{p.passage_id}] {' › '.join(p.section_path)}")
        for line in p.text.splitlines():
            click.echo(f"   {line}")


# ------------------------------------------------------------------- index

@main.group()
def index():
    """Build, update, rebuild and inspect the index."""


@index.command("build")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@_index_option
@_jobs_quiet
def index_build(sources, index_path, jobs, quiet):
    """Build the index from SOURCES (files or directories; default: seeds/)."""
    from .indexer import build_index

    path, _ = _resolve(index_path)
    report = _with_progress(quiet, build_index, list(sources) or None, path, jobs=jobs, engine=_engine())
    _summary(report, quiet, "built")


@index.command("update")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@_index_option
@_jobs_quiet
@click.option("--allow-empty-source", is_flag=True,
              help="Allow removing every report of a source that now holds none.")
def index_update(sources, index_path, jobs, quiet, allow_empty_source):
    """Add new and changed files, delete removed ones (default: the index's sources)."""
    from .indexer import update_index

    path, _ = _resolve(index_path)
    report = _with_progress(quiet, update_index, path, list(sources) or None, jobs=jobs,
                            allow_empty_source=allow_empty_source)
    for label, ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        for doc_id in ids:
            click.echo(f"{label}: {doc_id}")
    if not (report.added or report.changed or report.removed):
        click.echo("index is up to date", err=True)
    _summary(report, quiet, "updated")


@index.command("rebuild")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@_index_option
@_jobs_quiet
def index_rebuild(sources, index_path, jobs, quiet):
    """Rebuild into a new generation, swapped in atomically, from SOURCES
    (default: the sources recorded in the index)."""
    from .indexer import rebuild_index

    path, _ = _resolve(index_path)
    report = _with_progress(quiet, rebuild_index, path, list(sources) or None, jobs=jobs,
                            **({"engine": _engine()} if _engine() else {}))
    _summary(report, quiet, "rebuilt")


def _with_progress(quiet: bool, work, *args, **kwargs):
    """Run an index command with a progress line on stderr and warnings for skipped files."""
    progress = _ProgressLine(quiet)
    report = work(*args, progress=progress, warn=_warn, **kwargs)
    progress.done()
    return report


def _summary(report, quiet: bool, verb: str) -> None:
    if not quiet:
        skipped = f", {len(report.skipped)} files skipped" if report.skipped else ""
        click.echo(f"{verb} {report.path}: {report.documents} reports, {report.passages} passages"
                   f"{skipped} ({report.seconds:.1f}s)", err=True)


@index.command("status")
@_index_option
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def index_status(index_path, fmt):
    """Counts, size, build time, versions, and whether the sources changed."""
    from .indexer import index_status as status_of

    path, _ = _resolve(index_path)
    status = status_of(path)
    if fmt == "json":
        click.echo(json.dumps(asdict(status), ensure_ascii=False, indent=2))
        return
    versions = ", ".join(f"{k} {v}" for k, v in status.versions.items())
    click.echo(f"index:      {status.path} ({status.generation}, {status.segments} segments)")
    click.echo(f"engine:     {status.engine}")
    click.echo(f"reports:    {status.documents}")
    click.echo(f"passages:   {status.passages}")
    click.echo(f"size:       {status.size_bytes / 1e6:.1f} MB")
    click.echo(f"built:      {status.built_at} in {status.build_seconds:.1f}s")
    click.echo(f"versions:   {versions}")
    click.echo(f"sources:    {', '.join(status.sources)}")
    state = "up to date" if not status.stale else f"{len(status.stale)} files changed; run: erqi-search index update"
    click.echo(f"sources:    {state}")
    for missing in status.missing_sources:
        click.echo(f"missing:    {missing} (moved? run: erqi-search index rebuild NEW_PATH)")
    for shape in status.boilerplate:
        click.echo(f"template:   {shape} (left out at the end of files)")
    if not status.figures_current:
        click.echo(f"figures:    {_other_rules(status.path)}")


# ----------------------------------------------------------------- inspect

@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def inspect(paths, fmt):
    """Show the passages of files or directories as they will be indexed."""
    from .analysis import key_terms
    from .ingest import read_reports
    from .passages import cut_passages
    from .present import passage_to_dict

    skipped = 0

    def skip(where, reason):
        nonlocal skipped
        _warn(f"skipped {where}: {reason}")
        skipped += 1

    reports = [(report, cut_passages(report, key_terms)) for report in read_reports(paths, skip)]
    if fmt == "json":
        data = [{"doc_id": r.doc_id, "title": r.title, "year": r.year, "date": r.date, "source": r.source,
                 "speaker": r.speaker, "boilerplate": list(r.boilerplate),
                 "passages": [passage_to_dict(p) for p in passages]} for r, passages in reports]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for r, passages in reports:
            click.echo(f"== {r.doc_id}  {r.title}  ({r.year if r.year is not None else '----'}) {r.date}".rstrip())
            if r.speaker:
                click.echo(f"   speaker: {r.speaker}")
            for line in r.boilerplate:
                click.echo(f"   left out (template): {line}")
            for p in passages:
                meta = " | ".join(x for x in (" › ".join(p.section_path), "关键词: " + "、".join(p.keywords)
                                              if p.keywords else "", "terms: " + "、".join(p.key_terms)) if x)
                click.echo(f"[{p.passage_id}] {meta}")
                click.echo("   " + p.text.replace("\n", "\n   "))
    click.echo(f"{len(reports)} reports, {sum(len(passages) for _, passages in reports)} passages"
               + (f", {skipped} files skipped" if skipped else ""), err=True)


# ------------------------------------------------------------------- serve

@main.command()
@_index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port).")
def serve(index_path, host, port):
    """A local search page over the index, with a JSON API under /api/."""
    from .web import serve as run_server

    path, _ = _resolve(index_path)
    _open(index_path).close()  # the default index builds itself; a missing one is the usual error
    run_server(path, host=host, port=port, say=lambda message: click.echo(message, err=True))


# -------------------------------------------------------------- dictionary

@main.group()
def dictionary():
    """Tools for the segmentation dictionary."""


@dictionary.command("candidates")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
def dictionary_candidates(sources):
    """Print candidate policy terms found in SOURCES that the dictionary lacks
    (关键词, quoted phrases, short headings, recurring word pairs), one a line,
    for review before adding them to data/policy_terms.txt."""
    from .candidates import grow_candidates
    from .ingest import read_reports

    reports = list(read_reports(sources, lambda where, reason: _warn(f"skipped {where}: {reason}")))
    for term in grow_candidates(reports):
        click.echo(term)


# ---------------------------------------------------------------- keywords

@main.command()
@_index_option
@click.option("--year", "-y", type=click.IntRange(1000, 9999), default=None, help="Only passages of this year.")
@click.option("--limit", "-n", type=click.IntRange(1), default=20, show_default=True, help="How many.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def keywords(index_path, year, limit, fmt):
    """The corpus's top 关键词 and extracted key terms."""
    from .present import render_table

    with _open(index_path) as index:
        rows = index.keywords(year=year, limit=limit)
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
        return
    click.echo(render_table(["passages", "term", "kind"], [[str(r.passages), r.term, r.kind] for r in rows], {0}))


# ----------------------------------------------------------------- aliases

@main.command()
@_index_option
@click.option("--curated", is_flag=True, help="List the curated aliases too.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def aliases(index_path, curated, fmt):
    """The aliases a search expands: pairs the index's reports define
    (RCEP for 区域全面经济伙伴关系协定), with how often and a sample sentence."""
    from .present import render_table

    with _open(index_path) as index:
        rows = index.alias_table(curated=curated)
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    table = [[r.alias, r.full, r.source, str(r.reports) if r.source == "mined" else ""] for r in rows]
    if table:
        click.echo(render_table(["alias", "full form", "source", "reports"], table, {3}))
    for r in rows:
        if r.sample:
            click.echo(f"  {r.alias}: {r.sample}")
    click.echo(f"{len(rows)} aliases", err=True)


# ----------------------------------------------------- figures and trends

def _other_rules(path) -> str:
    from .store import command_hint

    return (f"some figures were extracted by other rules than this erqi-search's; "
            f"for the current ones run: {command_hint(Path(path), 'rebuild')}")


@main.command()
@click.argument("indicator")
@_index_option
@click.option("--year", "-y", type=click.IntRange(1000, 9999), default=None, help="Only figures of this year.")
@click.option("--kind", "-k", type=click.Choice(["level", "growth", "count"]), default=None,
              help="Only figures of this kind.")
@click.option("--region", "-r", default=None, help="Only figures of reports of this region.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
def figures(indicator, index_path, year, kind, region, fmt):
    """Figures for INDICATOR by year (地区生产总值, GDP, 优良天数, GDP增速, ...)."""
    import csv

    from .model import Figure
    from .present import render_table

    with _open(index_path) as index:
        rows = index.figures(indicator, year=year, kind=kind, region=region)
        if not index.figures_current:
            click.echo(f"note: {_other_rules(index.path)}", err=True)
    columns = list(Figure.__dataclass_fields__)
    if fmt == "json":
        click.echo(json.dumps([f.as_dict() for f in rows], ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for f in rows:
            writer.writerow([getattr(f, c) for c in columns])
    elif rows:
        table = [[str(f.year) if f.year is not None else "----", f.amount(), f.kind, f.period or "-",
                  f.indicator, f.passage_id] for f in rows]
        lines = render_table(["year", "amount", "kind", "period", "indicator", "passage"], table, {1}).split("\n")
        click.echo(lines[0])
        for line, f in zip(lines[1:], rows):
            click.echo(line)
            click.echo(f"      {f.text}")
    click.echo(f"{len(rows)} figures", err=True)


@main.command()
@click.argument("term")
@_index_option
@click.option("--synonyms", is_flag=True, help="Count the term's synonyms and variants too.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def trend(term, index_path, synonyms, fmt):
    """Per year, the passages whose text contains TERM: count, per 1,000 passages, a bar."""
    with _open(index_path) as index:
        result = index.trend(term, synonyms=synonyms)
    if fmt == "json":
        from .present import trend_to_dict

        click.echo(json.dumps(trend_to_dict(result), ensure_ascii=False))
        return
    click.echo(f"passages containing {' / '.join(result.forms)}", err=True)
    top = max((p.per_1000 for p in result.points), default=0) or 1
    for p in result.points:
        click.echo(f"{p.year}  {p.passages:6d}  {p.per_1000:7.1f}‰  {'█' * round(30 * p.per_1000 / top)}")


@main.command()
@click.argument("year_a", type=click.IntRange(1000, 9999))
@click.argument("year_b", type=click.IntRange(1000, 9999))
@_index_option
@click.option("--limit", "-n", type=click.IntRange(1), default=10, show_default=True, help="Terms per list.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def compare(year_a, year_b, index_path, limit, fmt):
    """关键词 and key terms that rose and fell from YEAR_A to YEAR_B (per 1,000 passages)."""
    from .present import render_table

    with _open(index_path) as index:
        result = index.compare(year_a, year_b, limit=limit)
    if fmt == "json":
        from .present import comparison_to_dict

        click.echo(json.dumps(comparison_to_dict(result), ensure_ascii=False))
        return
    for label, changes in (("rose", result.rose), ("fell", result.fell)):
        click.echo(f"{label}:")
        table = [[c.term, f"{c.rate_a:.1f}‰", "→", f"{c.rate_b:.1f}‰"] for c in changes]
        if table:
            for line in render_table(["term", str(year_a), "", str(year_b)], table, {1, 3}).split("\n"):
                click.echo("  " + line)


if __name__ == "__main__":
    main()
