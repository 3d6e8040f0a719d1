"""Parse policy documents of any supported format into typed records.

Two stages, each a package: ``ingest`` turns a .txt/.md/.pdf/.docx/.html file into cleaned text
blocks (tables as rows), and ``structure`` detects the document's own numbering hierarchy, its
items, sections, departments and cover facts, repairs page-break scars (see ``structure.clean``)
and applies the reviewed corrections in ``corpus/corrections.toml``. This module keeps the public
entry points (``load_corpus``, ``parse_file``, ``parse_document``) and re-exports the field
extractors.

Facts a document lacks (文号, dates, validity) are ``None`` with a warning, never a refusal; text
that is evidently lost (a numbering gap, an item cut off before its 责任单位) raises ``CorpusError``
naming the line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from .errors import CorpusError
from .ingest import SUPPORTED, Block, Extracted, extract_bytes, format_of
from .ingest.text import extract as _extract_text
from .structure import Correction, build_document, load_corrections
from .structure.clean import normalise
from .structure.departments import split_departments
from .structure.fields import extract_amounts, extract_deadlines, extract_percents
from .types import Corpus, Document

__all__ = [
    "Correction",
    "corpus_files",
    "extract_amounts",
    "extract_deadlines",
    "extract_percents",
    "load_corpus",
    "load_corrections",
    "normalise",
    "parse_document",
    "parse_file",
    "split_departments",
]


def parse_document(text: str, doc_id: str, *, source: str = "", corrections: Sequence[Correction] = ()) -> Document:
    """Parse one document's plain text into a :class:`Document`.

    Raises :class:`CorpusError` naming the line when text is evidently lost; it never returns a
    partial document.
    """
    extracted = _extract_text(text.encode("utf-8"), source or doc_id)
    return build_document(extracted, doc_id, source=source or doc_id, corrections=corrections)


def parse_file(
    path: Path, *, corrections: Sequence[Correction] = (), doc_id: str | None = None, name: str | None = None, cache_dir: Path | None = None
) -> Document:
    """Parse one file of any supported format.

    Its stem is the document id unless ``doc_id`` is given; ``name`` (default: the file's own name)
    decides the format, for uploads stored under another name. With ``cache_dir``, what a PDF, Word
    or HTML file's extraction gave is kept by the file's hash, so re-reading the corpus is quick.
    """
    try:
        data = path.read_bytes()
    except OSError as ex:
        raise CorpusError(f"cannot read the file: {ex.strerror}", source=str(path)) from None
    extracted = _cached_extract(data, name or path.name, str(path), cache_dir)
    return build_document(extracted, doc_id or path.stem, source=str(path), corrections=corrections)


EXTRACT_CACHE_VERSION = 2  # bump when an ingest module changes what it returns


def _cached_extract(data: bytes, name: str, source: str, cache_dir: Path | None) -> Extracted:
    fmt = format_of(Path(name))
    if cache_dir is None or fmt in ("txt", "md"):  # text is read faster than a cache entry
        return _extract(data, name, source)
    entry = cache_dir / f"{hashlib.sha256(data).hexdigest()}-{fmt}-v{EXTRACT_CACHE_VERSION}.json"
    if entry.exists():
        try:
            raw = json.loads(entry.read_text(encoding="utf-8"))
            blocks = tuple(Block(t, line, heading, table) for t, line, heading, table in raw["blocks"])
            return Extracted(blocks, raw["format"], raw["text"], raw["pages"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged entry is only a cache miss
    extracted = _extract(data, name, source)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_suffix(f".tmp-{os.getpid()}")
    blocks_json = [[b.text, b.line, b.heading, b.table] for b in extracted.blocks]
    payload = {"format": extracted.format, "text": extracted.text, "pages": extracted.pages, "blocks": blocks_json}
    tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, entry)
    return extracted


def _extract(data: bytes, name: str, source: str) -> Extracted:
    try:
        return extract_bytes(data, name)
    except CorpusError as ex:
        if ex.source == name and source != name:
            raise CorpusError(str(ex).split(": ", 1)[-1], source=source, line=ex.line) from None
        raise


def corpus_files(directory: Path) -> list[Path]:
    """The policy documents in ``directory``: every supported file except README and hidden files."""
    return sorted(
        p
        for p in Path(directory).iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith(".") and not p.stem.upper().startswith("README")
    )


def load_corpus(directory: Path, *, cache_dir: Path | None = None) -> Corpus:
    """Parse every policy document in ``directory`` (.txt .md .pdf .docx .html .htm) with its ``corrections.toml``.

    ``cache_dir`` keeps extraction results of PDF, Word and HTML files (see ``parse_file``).
    """
    directory = Path(directory)
    files = corpus_files(directory) if directory.is_dir() else []
    if not files:
        kinds = " ".join(sorted(SUPPORTED))
        raise CorpusError(f"no policy documents ({kinds}) found; put the documents in the corpus folder", source=str(directory))
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems:
            raise CorpusError(f"two files for document {f.stem!r}: {stems[f.stem].name} and {f.name}; keep one", source=str(directory))
        stems[f.stem] = f
    fixes = load_corrections(directory / "corrections.toml")
    docs = tuple(parse_file(f, corrections=fixes, cache_dir=cache_dir) for f in files)
    unknown = {c.doc for c in fixes} - set(stems)
    if unknown:
        raise CorpusError(f"corrections name unknown documents {sorted(unknown)}", source=str(directory / "corrections.toml"))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    if (directory / "corrections.toml").exists():
        digest.update((directory / "corrections.toml").read_bytes())
    return Corpus(documents=docs, sha256=digest.hexdigest())
