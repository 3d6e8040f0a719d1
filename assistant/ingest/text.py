"""Plain text (.txt) and Markdown (.md): one block per non-empty line.

Text copied out of a PDF keeps its page breaks as blank lines and its line breaks inside sentences;
``structure`` joins those fragments back, so nothing is joined here. Markdown's ``#`` headings give a
heading level, ``**bold**`` and list bullets are dropped, and table rows become "｜"-joined rows.
"""

from __future__ import annotations

import re

from ..errors import CorpusError
from ._types import Block, Extracted

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_MD_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_MD_BULLET = re.compile(r"^[-*+]\s+")


def decode(data: bytes, source: str) -> str:
    """UTF-8 text with Unix line ends; empty, binary and non-UTF-8 files raise ``CorpusError``."""
    if not data.strip():
        raise CorpusError("the file is empty; expected a policy document as UTF-8 text", source=source)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CorpusError("binary data (NUL byte); expected UTF-8 text", source=source, line=line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as ex:
        line = data[: ex.start].count(b"\n") + 1
        raise CorpusError(f"not UTF-8 text (bad byte at offset {ex.start}); save the file as UTF-8", source=source, line=line) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _markdown_block(line: str, n: int) -> Block | None:
    if _MD_RULE.match(line):
        return None
    if m := _MD_HEADING.match(line):
        return Block(m.group(2).replace("**", ""), n, heading=len(m.group(1)))
    if line.startswith("|"):
        cells = [c.strip().replace("**", "") for c in line.strip("|").split("|")]
        return Block("｜".join(c for c in cells if c), n, table=True)
    return Block(_MD_BULLET.sub("", line.lstrip("> ")).replace("**", ""), n)


def extract(data: bytes, source: str, *, markdown: bool = False) -> Extracted:
    text = decode(data, source)
    blocks = []
    for n, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        block = _markdown_block(line, n) if markdown else Block(line, n)
        if block is not None and block.text:
            blocks.append(block)
    return Extracted(tuple(blocks), "md" if markdown else "txt", text)
