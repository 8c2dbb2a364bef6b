"""Packed posting runs: one run of bytes per term, read as numpy arrays in one call.

A run holds a term's postings in a segment: the document numbers, how often
the term occurs in each, and, for the positional bigram field, where:

* a header byte: bits 0-1 the width of the document gaps (0: u8, 1: u16,
  2: u32, 3: u8 with exceptions), bits 2-5 the number of frequency bit
  planes, bits 6-7 the number of high bit planes of the positions;
* the first document number as a varint, then the gaps to the next ones in
  the chosen width (with exceptions: the count as a varint, the u8 gaps, then
  u32 indexes and u32 values of the gaps that did not fit);
* ``frequency - 1`` as bit planes (none at all when every frequency is 1);
* for positional runs: one low byte per position (absolute within its
  document, documents in order), then the high bits as bit planes.

Measured on gov_reports (docs/architecture.md): 1.68 bytes a posting for
words, 3.17 with positions for bigrams; a 45,000-document list decodes in
about 0.15 ms. Byte-aligned gaps need one ``cumsum``; positions none.

>>> run = encode([3, 7, 300], [1, 2, 1], [5, 0, 9, 700])
>>> docs, freqs, positions = decode(run, 3, positional=True)
>>> docs.tolist(), freqs.tolist(), positions.tolist()
([3, 7, 300], [1, 2, 1], [5, 0, 9, 700])
"""

from __future__ import annotations

import struct

import numpy as np

_WIDTH = (np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"))
#: Positions need at most this many bits (3 high planes over the low byte).
POSITION_BITS = 11
MAX_POSITION = (1 << POSITION_BITS) - 1


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 128:
        out.append((value & 127) | 128)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(buf, offset: int) -> tuple[int, int]:
    """The varint at ``offset`` and the offset after it."""
    value = shift = 0
    while True:
        byte = buf[offset]
        offset += 1
        value |= (byte & 127) << shift
        if byte < 128:
            return value, offset
        shift += 7


def _planes(values: np.ndarray, count: int) -> bytes:
    """``count`` bit planes of ``values`` (lowest bit first), each padded to a byte."""
    return b"".join(np.packbits(((values >> j) & 1).astype(np.uint8)).tobytes() for j in range(count))


def _unplanes(buf, offset: int, n: int, count: int) -> tuple[np.ndarray, int]:
    width = (n + 7) // 8
    bits = np.unpackbits(np.frombuffer(buf, np.uint8, width * count, offset)).reshape(count, width * 8)[:, :n]
    out = bits[0].astype(np.uint16)
    for j in range(1, count):
        out |= bits[j].astype(np.uint16) << j
    return out, offset + width * count


#: A dictionary entry's value: the document frequency, and in its top bits the
#: number of runs (a segment written in several passes keeps one run a pass).
RUNS_SHIFT = 27


def entry_value(df: int, runs: int = 1) -> int:
    return df | (runs - 1) << RUNS_SHIFT


def entry_parts(value: int) -> tuple[int, int]:
    """``(df, runs)`` of an entry value."""
    return value & ((1 << RUNS_SHIFT) - 1), (value >> RUNS_SHIFT) + 1


#: Runs of at most this many postings are encoded in plain Python (numpy's
#: per-call cost would dominate); both encoders write the same bytes.
SMALL = 24


def _packed_bits(values: list[int], count: int) -> bytes:
    """``count`` bit planes of ``values`` as :func:`numpy.packbits` writes them."""
    out = bytearray()
    for j in range(count):
        byte = bits = 0
        for v in values:
            byte = byte << 1 | (v >> j) & 1
            bits += 1
            if bits == 8:
                out.append(byte)
                byte = bits = 0
        if bits:
            out.append(byte << (8 - bits))
    return bytes(out)


def _encode_one(doc: int, freq: int, positions: list[int] | None) -> bytes:
    """:func:`_encode_small` of a run of one posting (most terms): no gaps, one
    byte per bit plane."""
    freq_planes = (freq - 1).bit_length()
    high_planes = 0
    if positions is not None:
        high_planes = max(0, max(positions, default=0).bit_length() - 8)
        if high_planes > 3:
            raise ValueError(f"a position over {MAX_POSITION}")
    out = bytearray([(freq_planes << 2) | (high_planes << 6)])
    out += varint(doc)
    out += bytes(((freq - 1) >> j & 1) << 7 for j in range(freq_planes))
    if positions is not None:
        out += bytes(p & 255 for p in positions)
        out += _packed_bits([p >> 8 for p in positions], high_planes)
    return bytes(out)


def _encode_small(docs: list[int], freqs: list[int], positions: list[int] | None) -> bytes:
    gaps = [b - a for a, b in zip(docs, docs[1:])]
    top = max(gaps, default=0)
    exceptions = [i for i, g in enumerate(gaps) if g >= 256]
    costs = [len(gaps) if top < 256 else 1 << 62, 2 * len(gaps) if top < 65536 else 1 << 62,
             4 * len(gaps), len(gaps) + 8 * len(exceptions) + 1]
    code = costs.index(min(costs))
    freq_planes = (max(freqs) - 1).bit_length()
    high_planes = 0
    if positions is not None:
        high_planes = max(0, max(positions, default=0).bit_length() - 8)
        if high_planes > 3:
            raise ValueError(f"a position over {MAX_POSITION}")
    out = bytearray([code | (freq_planes << 2) | (high_planes << 6)])
    out += varint(docs[0])
    if code == 3:
        out += varint(len(exceptions))
        out += bytes(g & 255 for g in gaps)
        out += struct.pack(f"<{len(exceptions)}I", *exceptions)
        out += struct.pack(f"<{len(exceptions)}I", *(gaps[i] for i in exceptions))
    else:
        out += struct.pack(f"<{len(gaps)}{'BHI'[code]}", *gaps)
    out += _packed_bits([f - 1 for f in freqs], freq_planes)
    if positions is not None:
        out += bytes(p & 255 for p in positions)
        out += _packed_bits([p >> 8 for p in positions], high_planes)
    return bytes(out)


def encode(docs, freqs, positions=None) -> bytes:
    """One run: ``docs`` ascending, ``freqs`` (>= 1) per doc and, for a
    positional field, ``positions``: ``freqs[0]`` positions of the first
    document, then the next one's ... (each at most :data:`MAX_POSITION`)."""
    if len(docs) <= SMALL:
        if not isinstance(docs, list):  # numpy values: plain ints for the Python encoder
            docs, freqs = [int(d) for d in docs], [int(f) for f in freqs]
            positions = None if positions is None else [int(p) for p in positions]
        if len(docs) == 1:
            return _encode_one(docs[0], freqs[0], positions)
        return _encode_small(docs, freqs, positions)
    docs = np.asarray(docs, np.int64)
    freqs = np.asarray(freqs, np.int64)
    gaps = np.diff(docs)
    top = int(gaps.max()) if len(gaps) else 0
    exceptions = np.flatnonzero(gaps >= 256)
    costs = [len(gaps) if top < 256 else 1 << 62, 2 * len(gaps) if top < 65536 else 1 << 62,
             4 * len(gaps), len(gaps) + 8 * len(exceptions) + 1]
    code = costs.index(min(costs))
    freq_planes = int(freqs.max() - 1).bit_length()
    flat = None
    high_planes = 0
    if positions is not None:
        flat = np.asarray(positions, np.int64)
        high_planes = max(0, int(flat.max()).bit_length() - 8) if len(flat) else 0
        if high_planes > 3:
            raise ValueError(f"a position over {MAX_POSITION}")
    out = bytearray([code | (freq_planes << 2) | (high_planes << 6)])
    out += varint(int(docs[0]))
    if code == 3:
        out += varint(len(exceptions))
        out += (gaps & 255).astype(np.uint8).tobytes()
        out += exceptions.astype("<u4").tobytes() + gaps[exceptions].astype("<u4").tobytes()
    else:
        out += gaps.astype(_WIDTH[code]).tobytes()
    out += _planes(freqs - 1, freq_planes)
    if flat is not None:
        out += (flat & 255).astype(np.uint8).tobytes()
        out += _planes(flat >> 8, high_planes)
    return bytes(out)


def decode_entry(buf, value: int, offset: int, positional: bool = False, has_positions: bool = False):
    """The arrays of a dictionary entry (one run, or several run by run, each
    after its posting count as a varint). ``has_positions``: the entry's
    runs hold positions (a ``grams`` term), which a read without
    ``positional`` must still step over to reach the next run."""
    df, runs = entry_parts(value)
    if runs == 1:
        return decode(buf, df, offset, positional)
    parts = []
    for _ in range(runs):
        n, offset = read_varint(buf, offset)
        *arrays, offset = _decode(buf, n, offset, positional, skip=has_positions and not positional)
        parts.append(arrays)
    return tuple(np.concatenate(column) for column in zip(*parts))


def decode(buf, n: int, offset: int = 0, positional: bool = False):
    """``(docs, freqs)`` of the run of ``n`` postings at ``offset`` in ``buf``
    (and the flat ``positions`` of a positional run): int32 documents, uint16
    frequencies, uint16 positions (document by document, in order)."""
    return _decode(buf, n, offset, positional)[:-1]


def _bits(buf, offset: int, n: int, count: int) -> tuple[list[int], int]:
    """``count`` bit planes of ``n`` values (as :func:`_planes` wrote them), in plain Python."""
    width = (n + 7) // 8
    values = [0] * n
    for j in range(count):
        plane = buf[offset : offset + width]
        offset += width
        for i in range(n):
            if plane[i >> 3] >> (7 - (i & 7)) & 1:
                values[i] |= 1 << j
    return values, offset


def _decode_small(buf, n: int, offset: int, positional: bool, skip: bool = False):
    """:func:`_decode` for a short run, in plain Python (numpy's per-call cost
    would be most of the time)."""
    header = buf[offset]
    code, freq_planes, high_planes = header & 3, (header >> 2) & 15, header >> 6
    first, offset = read_varint(buf, offset + 1)
    if code == 3:
        count, offset = read_varint(buf, offset)
        gaps = list(buf[offset : offset + n - 1])
        offset += n - 1
        where = struct.unpack_from(f"<{count}I", buf, offset)
        wide = struct.unpack_from(f"<{count}I", buf, offset + 4 * count)
        for i, g in zip(where, wide):
            gaps[i] = g
        offset += 8 * count
    else:
        gaps = struct.unpack_from(f"<{n - 1}{'BHI'[code]}", buf, offset)
        offset += (n - 1) * (1, 2, 4)[code]
    docs = [first]
    for g in gaps:
        docs.append(docs[-1] + g)
    freqs, offset = _bits(buf, offset, n, freq_planes)
    freqs = [f + 1 for f in freqs]
    out = [np.array(docs, np.int32), np.array(freqs, np.uint16)]
    if positional:
        total = sum(freqs)
        low = list(buf[offset : offset + total])
        offset += total
        high, offset = _bits(buf, offset, total, high_planes)
        out.append(np.array([h << 8 | v for h, v in zip(high, low)], np.uint16))
    elif skip:
        offset = _after_positions(offset, sum(freqs), high_planes)
    return (*out, offset)


def _after_positions(offset: int, total: int, high_planes: int) -> int:
    """Where the ``total`` positions stored at ``offset`` end (low bytes, then high bit planes)."""
    return offset + total + high_planes * ((total + 7) // 8)


def _decode(buf, n: int, offset: int, positional: bool, skip: bool = False):
    """``(docs, freqs[, positions], offset after the run)``; ``skip``: the run
    holds positions that are not wanted (the offset still passes them)."""
    if n <= SMALL:
        return _decode_small(buf, n, offset, positional, skip)
    header = buf[offset]
    code, freq_planes, high_planes = header & 3, (header >> 2) & 15, header >> 6
    first, offset = read_varint(buf, offset + 1)
    docs = np.empty(n, np.int32)
    docs[0] = first
    if code == 3:
        count, offset = read_varint(buf, offset)
        docs[1:] = np.frombuffer(buf, np.uint8, n - 1, offset)
        offset += n - 1
        where = np.frombuffer(buf, "<u4", count, offset)
        docs[1:][where] = np.frombuffer(buf, "<u4", count, offset + 4 * count)
        offset += 8 * count
    else:
        width = _WIDTH[code]
        docs[1:] = np.frombuffer(buf, width, n - 1, offset)
        offset += (n - 1) * width.itemsize
    np.cumsum(docs, out=docs)
    if freq_planes:
        freqs, offset = _unplanes(buf, offset, n, freq_planes)
        freqs += 1
    else:
        freqs = np.ones(n, np.uint16)
    if not (positional or skip):
        return docs, freqs, offset
    total = int(freqs.sum()) if freq_planes else n
    if not positional:
        return docs, freqs, _after_positions(offset, total, high_planes)
    low = np.frombuffer(buf, np.uint8, total, offset).astype(np.uint16)
    offset += total
    if high_planes:
        high, offset = _unplanes(buf, offset, total, high_planes)
        low |= high << 8
    return docs, freqs, low, offset
