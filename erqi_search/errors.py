"""The exception classes of erqi-search.

Every error a user can cause is an :class:`ErqiSearchError` whose message is
one plain sentence saying what to do next; the command line prints it on
stderr without a traceback. Errors that name a thing carry it as a field, so
callers never parse the message back.

>>> try:
...     raise UnreadableReport("seeds/x.txt", "the file is empty")
... except ErqiSearchError as err:
...     print(err, "|", err.path, "|", err.reason)
cannot read seeds/x.txt: the file is empty | seeds/x.txt | the file is empty
"""

from __future__ import annotations


class ErqiSearchError(Exception):
    """Base class: a failure the user can fix; ``str(err)`` says how."""

    exit_code = 1


class UnreadableReport(ErqiSearchError):
    """A report file that cannot be read or decoded: ``path`` and ``reason``."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read {self.path}: {reason}")


class SourceNotFound(ErqiSearchError):
    """A source given to build, update or rebuild does not exist, cannot be
    read, or holds no reports; nothing was changed."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"source {self.path} {reason}; nothing was changed")


class UnsafeUpdate(ErqiSearchError):
    """An update would remove every report of a source (a moved or emptied folder)."""


class IndexNotFound(ErqiSearchError):
    """No index where one was asked for."""


class IndexVersionMismatch(ErqiSearchError):
    """The index was built by other code (format, analyzer or dictionary)."""


class IndexCorrupt(ErqiSearchError):
    """The index is damaged or half-written."""


class IndexLocked(ErqiSearchError):
    """Another process is writing the index."""


class IndexClosed(ErqiSearchError):
    """The :class:`~erqi_search.search.Index` was used after ``close()``."""


class InvalidArgument(ErqiSearchError):
    """A library argument out of range or of the wrong kind (a year of ``'abc'``)."""

    exit_code = 2


class QuerySyntaxError(ErqiSearchError):
    """The query cannot be parsed; the message carries a Chinese and an English hint."""

    exit_code = 2
