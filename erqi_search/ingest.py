"""Files -> :class:`Report`: decoding, HTML, markup, layout repair, metadata.

A report is read into *blocks* (headings and paragraphs, in order) whose
texts, joined by newlines, make the report's display text. Passages are cut
from the blocks by :mod:`erqi_search.passages`.

>>> report = read_report("seeds/001_a8b229ab2cc41fd9.txt")
>>> report.year, report.doc_id
(2017, '001_a8b229ab2cc41fd9')
>>> "253亿元" in report.text and "**" not in report.text
True
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import stat
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple

from .boilerplate import TAIL_LINES, strip_template_tail, template_shapes
from .errors import UnreadableReport
from .model import Block, Report
from .outline import classify_line, normalize_line, strip_markup, structure  # noqa: F401 - classify_line, strip_markup: API
from . import passages as _passages  # noqa: F401 - registers the cutter of the deprecated Report.passages
from .text import CLAUSE_PUNCT, FULL_WIDTH_DIGITS, HAN, HAN_RE, SENTENCE_END

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
METADATA_FILE = "metadata.csv"

#: ``skip(path, reason)``: told of every file or directory passed over.
Skip = Callable[[Path, str], None]


# ---------------------------------------------------------------- decoding

def decode_bytes(data: bytes, name: str = "file") -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK.

    A file mixing UTF-8 and GB18030 lines is decoded line by line; a few
    undecodable bytes (or a lone UTF-16 surrogate) become U+FFFD, but a file
    that is mostly undecodable is refused.

    >>> decode_bytes("二七区".encode("gb18030"))
    '二七区'
    >>> decode_bytes(b"\\xff\\xfe" + "二七区的工作报告全文".encode("utf-16-le") + b"\\x00\\xd8")
    '二七区的工作报告全文�'
    >>> decode_bytes(b"\\x00\\x01\\x02binary")
    Traceback (most recent call last):
    ...
    erqi_search.errors.UnreadableReport: cannot read file: it looks binary, not UTF-8, UTF-16 or GB18030 text
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _mostly_text(data[3:].decode("utf-8", errors="replace"), name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _mostly_text(data.decode("utf-16", errors="replace"), name)
    if b"\x00" in data:
        raise UnreadableReport(name, "it looks binary, not UTF-8, UTF-16 or GB18030 text")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    lines, bad = [], 0
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                lines.append(raw.decode("gb18030"))
            except UnicodeDecodeError:
                bad += 1
                lines.append(raw.decode("utf-8", errors="replace"))
    if bad > len(lines) // 10:
        raise UnreadableReport(name, "it is not UTF-8, UTF-16 or GB18030 text")
    return "\n".join(lines)


def _mostly_text(text: str, name: str) -> str:
    """``text`` unless more than a tenth of it is replacement characters."""
    if text.count("\ufffd") * 10 > len(text):
        raise UnreadableReport(name, "it is not UTF-8, UTF-16 or GB18030 text")
    return text


# ------------------------------------------------------------- line rules

PROSE_PUNCT = "，。；、,;：:"


def _is_prose(text: str) -> bool:
    """A broken newspaper column is prose (commas, full stops) and long; a headline is short."""
    return len(text) >= 24 and any(ch in PROSE_PUNCT for ch in text)


def _continues(prev: Block, prose: bool, nxt: Block) -> bool:
    """True when ``nxt`` is the rest of a sentence that ``prev`` (prose or not) broke off."""
    if prev.kind != "para" or nxt.kind != "para" or not prev.text or not nxt.text:
        return False
    last, first = prev.text[-1], nxt.text[0]
    ends_open = bool(HAN_RE.match(last)) or last in "）)"
    starts_inside = bool(HAN_RE.match(first)) or first.isdigit() or first in "“‘《"
    return ends_open and prose and starts_inside


def repair_layout(blocks: list[Block]) -> list[Block]:
    """Join paragraphs that a newspaper layout broke mid-sentence (across a
    blank line).

    A long prose line that stops on a Chinese character continues on the next
    line; a short headline-like line does not. Linear in the text, however
    many lines join.

    >>> broken = [Block("para", "今年全力推进马固旧村改造项目、凤湖生态休闲区建设、西"), Block("para", "南水系连通工程。")]
    >>> [b.text for b in repair_layout(broken)]
    ['今年全力推进马固旧村改造项目、凤湖生态休闲区建设、西南水系连通工程。']
    >>> [b.text for b in repair_layout([Block("para", "凤湖、西"), Block("para", "南水系连通工程。")])]
    ['凤湖、西', '南水系连通工程。']
    """
    out: list[Block] = []
    pieces: list[str] = []  # the texts of the paragraph being joined
    prose = False
    for block in blocks:
        if out and _continues(out[-1], prose, block):
            pieces.append(block.text)
            out[-1] = Block("para", block.text)  # the last piece decides the next join (still prose)
            continue
        if len(pieces) > 1:
            out[-1] = Block("para", "".join(pieces))
        out.append(block)
        pieces, prose = [block.text], _is_prose(block.text)
    if len(pieces) > 1:
        out[-1] = Block("para", "".join(pieces))
    return out


class ParsedText(NamedTuple):
    """What the text of a file says besides its blocks."""

    blocks: list[Block]
    speaker: str = ""  # from a byline above the salutation
    boilerplate: tuple[str, ...] = ()  # trailing template lines left out


def parse_plain(text: str, boilerplate: frozenset[str] = frozenset()) -> ParsedText:
    """Plain text or markdown -> blocks, the speaker and the boilerplate left out.

    ``boilerplate`` holds the template tail shapes of the file's directory
    (:func:`template_tails`); the trailing lines of those shapes are left
    out. The outline rules are in :mod:`erqi_search.outline`.

    >>> parsed = parse_plain("政府工作报告\\n国务院总理 李强\\n各位代表：\\n一、工作回顾\\n经济回升向好。\\n本作品属于公有领域",
    ...                      frozenset(["本作品属于公有领域"]))
    >>> [(b.kind, b.text) for b in parsed.blocks][2:], parsed.speaker, parsed.boilerplate
    ([('para', '各位代表：'), ('heading', '一、工作回顾'), ('para', '经济回升向好。')], '李强', ('本作品属于公有领域',))
    """
    lines = [normalize_line(raw) for raw in text.splitlines()]
    lines, dropped = strip_template_tail(lines, boilerplate)
    logical, speaker = structure(lines)
    return ParsedText(repair_layout([x.block() for x in logical]), speaker, tuple(dropped))


def parse_text(text: str) -> list[Block]:
    """Plain text or markdown -> blocks (headings and paragraphs), layout repaired."""
    return parse_plain(text).blocks


# ------------------------------------------------------------------- HTML

_DROP = {"script", "style", "nav", "footer", "noscript", "template", "head", "title", "iframe", "svg", "form", "button"}
_BLOCK = {
    "p", "div", "li", "ul", "ol", "section", "article", "blockquote", "pre", "table", "tr", "td", "th",
    "dd", "dt", "dl", "header", "main", "figure", "figcaption", "address", "aside", "h5", "h6", "body",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}


def _clean_inline(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    # white space that only wrapped the source between two Chinese characters
    return re.sub(f"(?<=[{HAN}，。、；：“”]) (?=[{HAN}，。、；：“”])", "", text)


def parse_html(html: str) -> tuple[str, list[Block], str]:
    """HTML -> (title, blocks, speaker): h1-h4 become headings, block elements
    paragraphs (which the outline rules may find to be headings too); the
    speaker from a byline above the salutation, as for plain text.

    >>> title, blocks, _ = parse_html("<title>T</title><h2>生态</h2><p>治<b>污</b>。</p><script>x()</script>")
    >>> title, [(b.kind, b.text) for b in blocks]
    ('T', [('heading', '生态'), ('para', '治污。')])
    """
    from bs4 import BeautifulSoup, Comment, NavigableString

    soup = BeautifulSoup(html, "html.parser")
    title_tag = soup.find("title")
    title = _clean_inline(title_tag.get_text()) if title_tag else ""
    items: list = []  # text lines, and Blocks for h1-h4
    buffer: list[str] = []

    def flush() -> None:
        for line in "".join(buffer).split("\n"):
            line = normalize_line(_clean_inline(line))
            if line:
                items.append(line)
        buffer.clear()

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
                continue
            name = child.name
            if name in _DROP:
                continue
            if name in _HEADINGS:
                flush()
                text = _clean_inline(child.get_text(" "))
                if text:
                    items.append(Block("heading", text, _HEADINGS[name]))
            elif name == "br":
                buffer.append("\n")
            elif name in _BLOCK:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(soup)
    flush()
    lines, speaker = structure(items, markdown=False)
    blocks = repair_layout([x.block() for x in lines])
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading" and b.rank == 1), "")
    return title, blocks, speaker


# --------------------------------------------------------------- metadata

_YEAR = re.compile(r"(?<!\d)(19[4-9]\d|20\d\d)(?!\d)")
_NAME_YEAR = re.compile(r"(?<![0-9A-Za-z])(19[4-9]\d|20\d\d)(?![0-9A-Za-z])")  # not inside a hash
_DATE = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?:年(\d{1,2})月(\d{1,2})日|-(\d{1,2})-(\d{1,2})(?!\d))")

def infer_year(title: str, blocks: list[Block], file_name: str = "") -> int | None:
    """The year a report is about: a year in the title or opening headlines wins,
    then one in the file name, otherwise the most frequent plausible year in
    the text. Full-width digits count as digits.

    >>> infer_year("2018年,二七区高质量发展取得新成绩", [])
    2018
    >>> speech = Block("para", "现在我代表中华人民共和国国务院向第一届全国人民代表大会第三次会议提出关于"
    ...                        "１９５５年国家决算和１９５６年国家预算的报告，请予审查。")
    >>> infer_year("各位代表：", [speech], "1956_全国_报告.txt"), infer_year("各位代表：", [speech], "a2015f.txt")
    (1956, 1956)
    """
    head = [title]
    for block in blocks[:6]:
        if len(block.text) > 60:
            break
        head.append(block.text)
    for pattern, line in [(_YEAR, line) for line in head] + [(_NAME_YEAR, file_name)]:
        m = pattern.search(line.translate(FULL_WIDTH_DIGITS))
        if m:
            return int(m.group(1))
    counts = Counter(int(y) for b in blocks for y in _YEAR.findall(b.text.translate(FULL_WIDTH_DIGITS)))
    if not counts:
        return None
    return max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]


def infer_date(blocks: list[Block]) -> str:
    """The first full date (``2021年1月15日`` or ``2021-01-15``) near the start, as ISO."""
    head = "\n".join(b.text for b in blocks[:8])[:800]
    m = _DATE.search(head)
    if not m:
        return ""
    year, month, day = m.group(1), m.group(2) or m.group(4), m.group(3) or m.group(5)
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return ""
    return f"{year}-{int(month):02d}-{int(day):02d}"


def read_metadata(directory: Path) -> dict[str, dict[str, str]]:
    """Read a ``metadata.csv`` sidecar (file,title,year,date,region,source) if present."""
    path = directory / METADATA_FILE
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle) if row.get("file")}


def read_report(path: str | os.PathLike, metadata: dict[str, str] | None = None,
                boilerplate: frozenset[str] = frozenset()) -> Report:
    """Read one report file (.txt, .md or .html) into a :class:`Report`.

    ``metadata`` is the file's row of a ``metadata.csv`` sidecar; its
    non-empty values override what is inferred from the text.
    ``boilerplate`` is the template tail shapes of the file's directory
    (:func:`template_tails`): a text file's trailing lines of those shapes
    are left out and listed in ``report.boilerplate``.

    >>> read_report("seeds/000_7ff3adef1ce2c60f.txt").year
    2018
    """
    path = Path(path)
    data = read_file_bytes(path)
    if not data.strip():
        raise UnreadableReport(path, "the file is empty")
    text = decode_bytes(data, str(path))
    speaker, dropped = "", ()
    if path.suffix.lower() in (".html", ".htm"):
        title, blocks, speaker = parse_html(text)
    else:
        blocks, speaker, dropped = parse_plain(text, boilerplate)
        title = ""
    if not blocks:
        raise UnreadableReport(path, "it holds no text")
    meta = metadata or {}
    title = cap_title((meta.get("title") or "").strip() or title or blocks[0].text)
    year_text = (meta.get("year") or "").strip()
    return Report(
        doc_id=path.stem,
        title=title,
        year=int(year_text) if year_text.isdigit() else infer_year(title, blocks, path.name),
        date=(meta.get("date") or "").strip() or infer_date(blocks),
        source=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        blocks=blocks,
        region=(meta.get("region") or "").strip(),
        speaker=speaker,
        boilerplate=dropped,
    )


#: Files larger than this are refused rather than read into memory whole.
MAX_FILE_BYTES = 64 * 1024 * 1024


@contextmanager
def _regular_file(path: Path):
    """The open file at ``path`` and its size; a FIFO, device or socket is
    refused (:class:`UnreadableReport`) without blocking."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise UnreadableReport(path, err.strerror or str(err)) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableReport(path, "not a regular file (a FIFO, device or socket)")
        yield handle, info.st_size


def read_file_bytes(path: Path) -> bytes:
    """The bytes of a regular file; a FIFO, device or socket is refused without
    blocking, and so is a file over :data:`MAX_FILE_BYTES`."""
    with _regular_file(path) as (handle, size):
        if size > MAX_FILE_BYTES:
            raise UnreadableReport(path, f"larger than {MAX_FILE_BYTES >> 20} MB; split it into smaller files")
        try:
            return handle.read()
        except OSError as err:
            raise UnreadableReport(path, err.strerror or str(err)) from None


#: The end of a file read for its template tail (:func:`template_tails`).
TAIL_BYTES = 16 * 1024
#: Files whose template tails are compared (HTML pages drop their footers by tag).
TEXT_SUFFIXES = (".txt", ".md", ".markdown")


def read_tail(path: Path, n: int = TAIL_LINES) -> list[str]:
    """The last ``n`` non-blank lines of a text file, normalised, read from its
    last :data:`TAIL_BYTES` only; ``[]`` if it cannot be read.

    >>> read_tail(Path("seeds/003_48a90a0ac8a58bc6.txt"), 1)
    ['打算:建立健全基层综合服务管理平台,完善基层四项基础制度,不断强化公共服务和居民自治,重点解决群众关心的热点难点问题。']
    """
    try:
        with _regular_file(path) as (handle, size):
            head = handle.read(2)
            start = max(0, size - TAIL_BYTES)
            if start and head in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: from an even byte, behind the BOM
                handle.seek(start + start % 2)
                text = decode_bytes(head + handle.read(), str(path)).partition("\n")[2]
            elif start:
                handle.seek(start)
                text = decode_bytes(handle.read().partition(b"\n")[2], str(path))  # from a line start
            else:
                handle.seek(0)
                text = decode_bytes(handle.read(), str(path))
    except (OSError, UnreadableReport):
        return []
    tail: list[str] = []
    for raw in reversed(text.splitlines()):
        line = normalize_line(raw)
        if line:
            tail.append(line)
            if len(tail) == n:
                break
    return tail[::-1]


def template_tails_by_directory(paths: Iterable) -> dict[str, frozenset[str]]:
    """The template tail shapes (see :mod:`erqi_search.boilerplate`) of each
    directory that holds one of ``paths`` (file paths, or the pairs
    :func:`find_report_files` yields).

    Each directory is judged from all its .txt and .md files, whichever of
    them ``paths`` lists, so that a file read alone is cut as it is when its
    whole directory is indexed. A directory of fewer than five files has no
    template.
    """
    directories = dict.fromkeys(str(Path(p[0] if isinstance(p, tuple) else p).parent) for p in paths)
    shapes = {}
    for directory in directories:
        try:
            files = sorted(e.path for e in os.scandir(directory)
                           if e.name.lower().endswith(TEXT_SUFFIXES) and not e.name.startswith("."))
        except OSError:
            files = []
        shapes[directory] = template_shapes(read_tail(Path(f)) for f in files)
    return shapes


def template_tails(paths: Iterable) -> frozenset[str]:
    """The template tail shapes of the directories that hold ``paths``, to
    pass to :func:`read_report` (see :func:`template_tails_by_directory`)."""
    return frozenset().union(*template_tails_by_directory(paths).values())


#: Titles are cut to this many characters (a file without line breaks would
#: otherwise make its whole text the title of every passage).
TITLE_MAX = 100


def cap_title(text: str, limit: int = TITLE_MAX) -> str:
    """``text`` cut to at most ``limit`` characters, at a sentence or clause end
    when one falls in the second half, with ``…`` where it was cut.

    >>> cap_title("二七区推进项目建设。" * 3, limit=12)
    '二七区推进项目建设。…'
    >>> cap_title("短标题")
    '短标题'
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = max(head.rfind(ch) for ch in SENTENCE_END + CLAUSE_PUNCT)
    return (head[: cut + 1] if cut >= limit // 2 else head) + "…"


def find_report_files(sources, skip: Skip | None = None) -> Iterator[tuple[Path, dict[str, str] | None]]:
    """Yield ``(path, metadata_row)`` for every report under the sources, sorted.

    Directories are walked recursively (symlink loops are not followed twice);
    what is passed over is reported through ``skip(path, reason)``.
    """
    skip = skip or (lambda path, reason: None)
    sidecars: dict[Path, dict[str, dict[str, str]]] = {}  # read once per folder
    for source in sources:
        source = Path(source)
        if source.is_file():
            if source.suffix.lower() in SUFFIXES:
                if source.parent not in sidecars:
                    sidecars[source.parent] = read_metadata(source.parent)
                yield source, sidecars[source.parent].get(source.name)
            else:
                skip(source, NOT_A_REPORT)
        elif source.is_dir():
            yield from _walk(source, skip, set())
        else:
            skip(source, "no such file or directory")


NOT_A_REPORT = "not a .txt, .md or .html file"


def _walk(directory: Path, skip: Skip, seen: set) -> Iterator[tuple[Path, dict[str, str] | None]]:
    try:
        real = os.path.realpath(directory)
        if real in seen:
            skip(directory, "a directory link loop")
            return
        seen.add(real)
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as err:
        skip(directory, err.strerror or str(err))
        return
    metadata = read_metadata(directory)
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:  # a link to itself: not a directory; reading it will say why
            is_dir = False
        if is_dir:
            yield from _walk(path, skip, seen)
        elif entry.name == METADATA_FILE or entry.name.startswith("."):
            continue
        elif path.suffix.lower() in SUFFIXES:
            yield path, metadata.get(entry.name)
        else:
            skip(path, NOT_A_REPORT)


def read_reports(sources, skip: Skip | None = None) -> Iterator[Report]:
    """Every readable report under ``sources``, read as an index write reads
    it (template tails of its directory left out); files that cannot be read
    are reported through ``skip(path, reason)`` and passed over.

    >>> [r.doc_id for r in read_reports(["seeds/000_7ff3adef1ce2c60f.txt"])]
    ['000_7ff3adef1ce2c60f']
    """
    skip = skip or (lambda path, reason: None)
    found = list(find_report_files(sources, skip))
    tails = template_tails_by_directory(found)
    for path, meta in found:
        try:
            yield read_report(path, meta, tails.get(str(Path(path).parent), frozenset()))
        except UnreadableReport as err:
            skip(err.path, err.reason)
