"""erqi-search: full-text search for Chinese policy reports.

The public API::

    >>> from erqi_search import open_index
    >>> with open_index("index") as idx:
    ...     res = idx.search("大气污染防治", year=2017, limit=3)
    >>> res.hits[0].section_path
    ('【靠抓手 见成效】', '大气污染防治')

See docs/library.md for the whole API.
"""

__version__ = "0.2.0"

from .errors import (  # noqa: E402
    ErqiSearchError,
    IndexClosed,
    IndexCorrupt,
    IndexLocked,
    IndexNotFound,
    IndexVersionMismatch,
    InvalidArgument,
    QuerySyntaxError,
    SourceNotFound,
    UnreadableReport,
    UnsafeUpdate,
)

__all__ = [
    "__version__",
    "ErqiSearchError",
    "IndexClosed",
    "IndexCorrupt",
    "IndexLocked",
    "IndexNotFound",
    "IndexVersionMismatch",
    "InvalidArgument",
    "QuerySyntaxError",
    "SourceNotFound",
    "UnreadableReport",
    "UnsafeUpdate",
    "open_index",
    "build_index",
    "update_index",
    "rebuild_index",
    "index_status",
    "read_report",
    "read_reports",
    "Index",
    "Hit",
    "SearchResults",
    "Passage",
    "Report",
    "Figure",
    "Trend",
    "TrendPoint",
    "Comparison",
    "TermChange",
    "KeywordCount",
    "Alias",
    "cut_passages",
]

_LAZY = {
    "open_index": "search",
    "Index": "search",
    "build_index": "indexer",
    "update_index": "indexer",
    "rebuild_index": "indexer",
    "index_status": "indexer",
    "read_report": "ingest",
    "read_reports": "ingest",
    "Passage": "model",
    "Hit": "model",
    "SearchResults": "model",
    "Report": "model",
    "Figure": "model",
    "Trend": "model",
    "TrendPoint": "model",
    "Comparison": "model",
    "TermChange": "model",
    "KeywordCount": "model",
    "Alias": "model",
    "cut_passages": "passages",
}


def __getattr__(name):
    """Import the pipeline stages on first use, so ``import erqi_search`` stays cheap."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'erqi_search' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
