"""The exception classes of erqi-search.

Every error a user can cause is an :class:`ErqiSearchError` whose message is
one plain sentence saying what to do next; the command line prints it on
stderr without a traceback.

>>> try:
...     raise IndexNotFound("no index at 'x'; build one with: erqi-search index build --index x")
... except ErqiSearchError as err:
...     print(err)
no index at 'x'; build one with: erqi-search index build --index x
"""


class ErqiSearchError(Exception):
    """Base class: a failure the user can fix; ``str(err)`` says how."""

    exit_code = 1


class UnreadableReport(ErqiSearchError):
    """A report file that cannot be read or decoded."""


class IndexNotFound(ErqiSearchError):
    """No index where one was asked for."""


class IndexVersionMismatch(ErqiSearchError):
    """The index was built by other code (format, analyzer or dictionary)."""


class IndexCorrupt(ErqiSearchError):
    """The index is damaged or half-written."""


class IndexLocked(ErqiSearchError):
    """Another process is writing the index."""


class QuerySyntaxError(ErqiSearchError):
    """The query cannot be parsed; the message carries a Chinese and an English hint."""

    exit_code = 2
