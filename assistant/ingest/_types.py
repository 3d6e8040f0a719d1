"""The records every format module returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One paragraph (or one line of a text file) in reading order."""

    text: str
    line: int  # 1-based: the line of a text file, else the block's position (PDF: page * 1000 + line)
    heading: int = 0  # heading level from the source's markup (Word style, <h1>, "#"), 0 for none
    table: bool = False  # one table row, cells joined by "｜"


@dataclass(frozen=True)
class Extracted:
    """A file's blocks and what is needed to fingerprint it."""

    blocks: tuple[Block, ...]
    format: str
    text: str  # the decoded text of a text file, else the blocks joined by newlines (hashed for the document)
    pages: int = 0  # PDF pages, 0 for other formats
