"""Turn a file of any supported format into cleaned text blocks (first stage of ``parse``).

One module per format: ``text`` (.txt, .md), ``pdf`` (text layer, via pdfplumber), ``docx``
(python-docx: heading styles, automatic numbering rendered as text, tables) and ``html`` (a saved web
page with the site's navigation, footer and scripts dropped). Each returns :class:`Extracted`: the
blocks in reading order, one paragraph (or one line of a text file) each, tables as one block a row
with the cells joined by "｜". What a block *means* (a heading, an item, a department list) is decided
later, by ``structure``, from the text alone, so every format gets the same numbering detection and the
same page-break repairs.

    >>> extract_bytes("一、总体要求\\n到2025年…".encode(), "plan.txt").blocks[0].text
    '一、总体要求'
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CorpusError
from ._types import Block, Extracted

__all__ = ["SUPPORTED", "Block", "Extracted", "extract", "extract_bytes", "format_of"]

# suffix -> format name; the corpus folder picks up exactly these files.
SUPPORTED: dict[str, str] = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}


def format_of(path: Path) -> str:
    """The format name of ``path`` by its suffix; raises ``CorpusError`` naming the supported ones."""
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        kinds = " ".join(sorted(set(SUPPORTED)))
        raise CorpusError(f"unsupported file type {path.suffix or '(none)'!r}; supported: {kinds}", source=str(path))
    return fmt


def extract_bytes(data: bytes, name: str) -> Extracted:
    """Blocks of a file's content; ``name`` gives the format (by suffix) and is used in messages."""
    fmt = format_of(Path(name))
    if fmt in ("txt", "md"):
        from . import text

        return text.extract(data, name, markdown=fmt == "md")
    if fmt == "pdf":
        from . import pdf

        return pdf.extract(data, name)
    if fmt == "docx":
        from . import docx

        return docx.extract(data, name)
    from . import html

    return html.extract(data, name)


def extract(path: Path) -> Extracted:
    """Blocks of the file at ``path``."""
    try:
        data = path.read_bytes()
    except OSError as ex:
        raise CorpusError(f"cannot read the file: {ex.strerror}", source=str(path)) from None
    return extract_bytes(data, str(path))
