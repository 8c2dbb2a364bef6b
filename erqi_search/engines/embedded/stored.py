"""Stored records compressed in blocks.

Records (one JSON object a document) are grouped :data:`PER_BLOCK` to a
block and each block is deflated with a preset dictionary sampled from the
segment's own text (kept once, at the head of the file), which is what makes
small blocks compress almost as well as whole reports. Measured on
gov_reports: 0.40 of the text's size; ten random passages in 0.45 ms.

>>> import io
>>> out = io.BytesIO()
>>> write(out, [{"c": "二七区" * 50, "n": i} for i in range(40)])
>>> reader = Reader(out.getvalue())
>>> reader.get(33)["n"], len(reader)
(33, 40)
"""

from __future__ import annotations

import json
import shutil
import struct
import threading
import zlib
from collections import OrderedDict

from ...lexicon import u64s

#: Records a block: fewer make a fetch cheaper and the file bigger (measured
#: on gov_reports: 16 a block 0.40 of the text, 4 a block 0.45, one 0.47).
PER_BLOCK = 4
#: The preset dictionary is cut to this many bytes (zlib's window).
ZDICT_BYTES = 32 * 1024
_HEAD = struct.Struct("<III")  # records, zdict length, records a block
_LEVEL = 6


def sample_zdict(texts: list[str]) -> bytes:
    """A preset dictionary from evenly spaced texts, the most typical last
    (zlib looks back from the end of the dictionary first)."""
    if not texts:
        return b""
    step = max(1, len(texts) // 64)
    picked = texts[::step][:64]
    data = "".join(picked).encode("utf-8")
    return data[-ZDICT_BYTES:]


class Writer:
    """Streams records into compressed blocks. The preset dictionary comes
    from the first :data:`SAMPLE` records (or is given); blocks wait in a
    temporary file until :meth:`close` writes the file's head before them."""

    SAMPLE = 1024

    def __init__(self, out, zdict: bytes | None = None):
        import tempfile

        self.out = out
        self.zdict = zdict
        self.pending: list[dict] = []
        self.block: list[dict] = []
        self.count = 0
        self.offsets = [0]
        self.blocks = tempfile.TemporaryFile()

    def add(self, record: dict) -> None:
        if self.zdict is None:
            self.pending.append(record)
            if len(self.pending) >= self.SAMPLE:
                self._start()
        else:
            self._append(record)

    def _start(self) -> None:
        self.zdict = sample_zdict([r.get("c", "") for r in self.pending])
        pending, self.pending = self.pending, []
        for record in pending:
            self._append(record)

    def _append(self, record: dict) -> None:
        self.block.append(record)
        self.count += 1
        if len(self.block) == PER_BLOCK:
            self._flush()

    def _flush(self) -> None:
        if not self.block:
            return
        lines = "\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in self.block)
        packer = zlib.compressobj(_LEVEL, zdict=self.zdict) if self.zdict else zlib.compressobj(_LEVEL)
        data = packer.compress(lines.encode("utf-8")) + packer.flush()
        self.blocks.write(data)
        self.offsets.append(self.offsets[-1] + len(data))
        self.block = []

    def close(self) -> None:
        if self.zdict is None:
            self._start()
        self._flush()
        self.out.write(_HEAD.pack(self.count, len(self.zdict), PER_BLOCK))
        self.out.write(self.zdict)
        self.out.write(struct.pack(f"<{len(self.offsets)}Q", *self.offsets))
        self.blocks.seek(0)
        shutil.copyfileobj(self.blocks, self.out)
        self.blocks.close()


def write(out, records, zdict: bytes | None = None) -> None:
    """Write ``records`` to the binary file ``out``."""
    writer = Writer(out, zdict)
    for record in records:
        writer.add(record)
    writer.close()


class Reader:
    """Random access to the records :func:`write` wrote; keeps a few blocks
    decompressed (neighbouring passages are often asked for together)."""

    CACHE = 8

    def __init__(self, buf):
        self.buf = buf
        self.count, zlength, self.per_block = _HEAD.unpack_from(buf, 0)
        self.zdict = bytes(buf[_HEAD.size : _HEAD.size + zlength])
        blocks = (self.count + self.per_block - 1) // self.per_block
        at = _HEAD.size + zlength
        self.offsets = u64s(buf, at, blocks + 1)
        self.data_at = at + 8 * (blocks + 1)
        self._cache: OrderedDict[int, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.count

    def _text(self, block: int) -> str:
        start, end = self.offsets[block], self.offsets[block + 1]
        raw = bytes(self.buf[self.data_at + start : self.data_at + end])
        unpacker = zlib.decompressobj(zdict=self.zdict) if self.zdict else zlib.decompressobj()
        return (unpacker.decompress(raw) + unpacker.flush()).decode("utf-8")

    def _lines(self, block: int) -> list[str]:
        with self._lock:
            lines = self._cache.get(block)
            if lines is not None:
                self._cache.move_to_end(block)
                return lines
        lines = self._text(block).split("\n")
        with self._lock:
            self._cache[block] = lines
            while len(self._cache) > self.CACHE:
                self._cache.popitem(last=False)
        return lines

    def get(self, i: int) -> dict:
        """Record ``i`` (0-based)."""
        return json.loads(self._lines(i // self.per_block)[i % self.per_block])

    def starting_with(self, *prefixes: str):
        """``(number, record)`` of each record whose line starts with one of
        ``prefixes`` (``'{"d":"ID",'``: a report by its id), found without
        parsing the others."""
        for block in range((self.count + self.per_block - 1) // self.per_block):
            text = self._text(block)  # not cached: a scan would push out the blocks being read
            if not any(prefix in text for prefix in prefixes):
                continue
            for i, line in enumerate(text.split("\n")):
                if line.startswith(prefixes):
                    yield block * self.per_block + i, json.loads(line)

    def __iter__(self):
        for block in range((self.count + self.per_block - 1) // self.per_block):
            for line in self._lines(block):
                yield json.loads(line)
