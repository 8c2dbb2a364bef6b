"""The packed format as a Whoosh codec: Whoosh opens an embedded generation
(``whoosh.index.open_dir``) and reads it through :class:`PackedCodec`, its
own query and matcher classes included; erqi-search's evaluator reads the
same segment files directly, as whole arrays.

Segments are written in bulk by :class:`~.segment.SegmentBuilder` (Whoosh's
per-document writer is not used: its pooling was what bounded the build),
so the codec's writing methods say so. Whoosh pickles the codec and the
segment class into the table of contents: keep them at this import path.
"""

from __future__ import annotations

from pathlib import Path

from whoosh.codec.base import Codec, PerDocumentReader, Segment, TermsReader
from whoosh.matching import ListMatcher
from whoosh.reading import TermInfo

from ... import schema as fields
from .postings import entry_parts
from .segment import SegmentReader

INDEX_NAME = "MAIN"


class PackedSegment(Segment):
    """A segment of packed files, named by its erqi-search id; it keeps the
    description ``segments.json`` holds (document count, totals, deletions)."""

    def __init__(self, description: dict):
        super().__init__(INDEX_NAME)
        self.description = dict(description)
        self.segid = description["id"]

    def codec(self):
        return PackedCodec()

    def segment_id(self):
        return self.description["id"]

    def doc_count_all(self):
        return self.description["doc_count"]

    def deleted_docs(self):
        return iter(self.description.get("deleted") or [])

    def has_deletions(self):
        return bool(self.description.get("deleted"))

    def deleted_count(self):
        return len(self.description.get("deleted") or [])

    def is_deleted(self, docnum):
        return docnum in set(self.description.get("deleted") or [])

    def delete_document(self, docnum, delete=True):
        raise NotImplementedError("erqi-search marks deletions through its own writer (erqi_search.indexer)")

    def should_assemble(self):
        return False


class PackedCodec(Codec):
    """Reads packed segments for Whoosh."""

    length_stats = False

    def terms_reader(self, storage, segment):
        return PackedTermsReader(_reader(storage, segment))

    def per_document_reader(self, storage, segment):
        return PackedPerDocReader(_reader(storage, segment))

    def new_segment(self, storage, indexname):
        raise NotImplementedError("packed segments are written in bulk by erqi_search.indexer")

    def per_document_writer(self, storage, segment):
        raise NotImplementedError("packed segments are written in bulk by erqi_search.indexer")

    def field_writer(self, storage, segment):
        raise NotImplementedError("packed segments are written in bulk by erqi_search.indexer")


def _reader(storage, segment) -> SegmentReader:
    return SegmentReader(Path(storage.folder), segment.description)


class PackedTermsReader(TermsReader):
    def __init__(self, seg: SegmentReader):
        self.seg = seg

    def __contains__(self, term):
        fieldname, text = term
        return fieldname in fields.FIELDS and self.seg.lookup(fieldname, _text(text)) is not None

    def terms(self):
        for fieldname in fields.FIELDS:
            for text, _ in self.seg.terms(fieldname):
                yield fieldname, text.encode("utf-8")

    def terms_from(self, fieldname, prefix):
        for name, text in self.terms():
            if (name, text) >= (fieldname, prefix if isinstance(prefix, bytes) else prefix.encode("utf-8")):
                yield name, text

    def items(self):
        for fieldname, text in self.terms():
            yield (fieldname, text), self.term_info(fieldname, text)

    def items_from(self, fieldname, prefix):
        for name, text in self.terms_from(fieldname, prefix):
            yield (name, text), self.term_info(name, text)

    def _arrays(self, fieldname, text):
        found = self.seg.lookup(fieldname, _text(text))
        if found is None:
            raise KeyError((fieldname, text))
        return self.seg.read(fieldname, found, positional=fields.FIELDS[fieldname] == "grams")

    def term_info(self, fieldname, text):
        arrays = self._arrays(fieldname, text)
        docs, freqs = arrays[0], arrays[1]
        lengths = self.seg.lengths[fieldname][docs]
        return TermInfo(weight=float(freqs.sum()), df=len(docs), minlength=int(lengths.min()),
                        maxlength=int(lengths.max()), maxweight=float(freqs.max()),
                        minid=int(docs[0]), maxid=int(docs[-1]))

    def frequency(self, fieldname, text):
        return self.term_info(fieldname, text).weight()

    def doc_frequency(self, fieldname, text):
        found = self.seg.lookup(fieldname, _text(text))
        return entry_parts(found[0])[0] if found else 0

    def matcher(self, fieldname, text, format_, scorer=None):
        arrays = self._arrays(fieldname, text)
        docs, freqs = arrays[0].tolist(), arrays[1].tolist()
        values = None
        if len(arrays) == 3:
            flat, values, at = arrays[2].tolist(), [], 0
            for n in freqs:
                values.append(format_.encode(flat[at : at + n]))
                at += n
        return ListMatcher(docs, [float(f) for f in freqs], values, format_, scorer=scorer,
                           term=(fieldname, text))

    def indexed_field_names(self):
        return list(fields.FIELDS)

    def close(self):
        self.seg.close()


class PackedPerDocReader(PerDocumentReader):
    def __init__(self, seg: SegmentReader):
        self.seg = seg
        self._deleted = set(seg.deleted)

    def doc_count_all(self):
        return self.seg.doc_count

    def doc_count(self):
        return self.seg.doc_count - len(self._deleted)

    def has_deletions(self):
        return bool(self._deleted)

    def is_deleted(self, docnum):
        return docnum in self._deleted

    def deleted_docs(self):
        return sorted(self._deleted)

    def doc_field_length(self, docnum, fieldname, default=0):
        lengths = self.seg.lengths.get(fieldname)
        return int(lengths[docnum]) if lengths is not None else default

    def field_length(self, fieldname):
        return self.seg.totals.get(fieldname, 0)

    def min_field_length(self, fieldname):
        lengths = self.seg.lengths.get(fieldname)
        return int(lengths.min()) if lengths is not None and len(lengths) else 0

    def max_field_length(self, fieldname):
        lengths = self.seg.lengths.get(fieldname)
        return int(lengths.max()) if lengths is not None and len(lengths) else 0

    def has_vector(self, docnum, fieldname):
        return False

    def stored_fields(self, docnum):
        record = self.seg.stored.get(docnum)
        report = self.seg.report_record(int(self.seg.report[docnum]))
        return {
            "doc_id": report["d"], "passage_id": f"{report['d']}#{record['o']:03d}", "ordinal": record["o"],
            "title": report["t"], "year": report["y"], "date": report["dt"], "region": report["r"],
            "source": report["s"], "section_path": record["s"], "keywords": record["k"],
            "key_terms": record["t"], "content": record["c"], "span": record["a"],
        }

    def all_stored_fields(self):
        for docnum in range(self.seg.doc_count):
            if docnum not in self._deleted:
                yield self.stored_fields(docnum)

    def supports_columns(self):
        return False

    def close(self):
        self.seg.close()


def _text(text) -> str:
    return text.decode("utf-8") if isinstance(text, bytes) else text


def write_toc(gen: Path, segments: list[dict]) -> None:
    """Write Whoosh's table of contents for ``segments`` (generation 1 of the
    Whoosh index inside the store's generation directory)."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    storage = FileStorage(str(gen))
    for old in Path(gen).glob(f"_{INDEX_NAME}_*.toc"):
        old.unlink()
    TOC(fields.build_schema(), [PackedSegment(d) for d in segments], 1).write(storage, INDEX_NAME)
