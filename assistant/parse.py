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
from collections.abc import Sequence
from pathlib import Path

from .errors import CorpusError
from .ingest import SUPPORTED, extract
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


def parse_file(path: Path, *, corrections: Sequence[Correction] = (), doc_id: str | None = None) -> Document:
    """Parse one file of any supported format; its stem is the document id unless ``doc_id`` is given."""
    return build_document(extract(path), doc_id or path.stem, source=str(path), corrections=corrections)


def corpus_files(directory: Path) -> list[Path]:
    """The policy documents in ``directory``: every supported file except README and hidden files."""
    return sorted(
        p
        for p in Path(directory).iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith(".") and not p.stem.upper().startswith("README")
    )


def load_corpus(directory: Path) -> Corpus:
    """Parse every policy document in ``directory`` (.txt .md .pdf .docx .html .htm) with its ``corrections.toml``."""
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
    docs = tuple(parse_file(f, corrections=fixes) for f in files)
    unknown = {c.doc for c in fixes} - set(stems)
    if unknown:
        raise CorpusError(f"corrections name unknown documents {sorted(unknown)}", source=str(directory / "corrections.toml"))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    if (directory / "corrections.toml").exists():
        digest.update((directory / "corrections.toml").read_bytes())
    return Corpus(documents=docs, sha256=digest.hexdigest())
