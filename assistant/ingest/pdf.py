"""PDF with a text layer (pdfplumber): lines regrouped into paragraphs by their layout.

A Chinese official document indents the first line of each paragraph by two characters and runs
the other lines to the right margin, so a line starts a paragraph when it is indented, centred or
follows a line that stopped short of the margin; a paragraph cut by a page break goes on in the
first, flush-left line of the next page. Page numbers ("— 3 —", "第3页") and tables' text lines
are dropped from the flow; each table row comes back as one "｜"-joined block.

A scanned PDF (images, no text layer) raises ``CorpusError`` saying what to do: nothing here
runs OCR.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from typing import Any

from ..errors import CorpusError
from ._types import Block, Extracted

_PAGE_NUMBER = re.compile(r"^[-—–－~\s]*(?:第?\s*\d{1,4}\s*页?(?:\s*/\s*共?\s*\d+\s*页?)?)[-—–－~\s]*$")
INDENT_CHARS = 0.9  # a first line is indented by two characters; one (less rounding) is enough to tell
SHORT_CHARS = 2.0  # a line ending this many characters before the margin ends its paragraph


def _open(data: bytes, source: str) -> Any:
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        return pdfplumber.open(io.BytesIO(data))
    except (PDFSyntaxError, ValueError, KeyError) as ex:
        raise CorpusError(f"not a readable PDF ({ex.__class__.__name__}); re-save it from the original program", source=source) from None
    except Exception as ex:  # pdfminer raises many kinds for damaged or encrypted files
        raise CorpusError(f"cannot open the PDF ({ex}); if it is password-protected, save an unprotected copy", source=source) from None


def _in_box(line: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    mid_x, mid_y = (line["x0"] + line["x1"]) / 2, (line["top"] + line["bottom"]) / 2
    return any(x0 <= mid_x <= x1 and top <= mid_y <= bottom for x0, top, x1, bottom in boxes)


def _page_items(page: Any) -> list[tuple[float, str, Any]]:
    """(top, kind, payload) in reading order: text lines outside tables, then table rows by position."""
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]
    items: list[tuple[float, str, Any]] = []
    for line in page.extract_text_lines(return_chars=True):
        text = line["text"].strip()
        if text and not _PAGE_NUMBER.match(text) and not _in_box(line, boxes):
            items.append((line["top"], "line", line))
    for t in tables:
        for i, row in enumerate(t.extract()):
            cells = [re.sub(r"\s+", "", c or "") for c in row]
            cells = [c for k, c in enumerate(cells) if c and c not in cells[:k]]  # merged cells repeat their text
            if cells:
                items.append((t.bbox[1] + i * 0.01, "row", "｜".join(cells)))
    return sorted(items, key=lambda it: it[0])


def _layout(lines: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Left margin, right margin and character width of the body text."""
    # The margin is where continuation lines start: the leftmost position used more than once (a
    # document of one-line paragraphs has most lines indented, so the most common one will not do).
    counts = Counter(round(ln["x0"]) for ln in lines)
    left = min((x for x, c in counts.items() if c > 1), default=min(counts, default=0))
    right = max((ln["x1"] for ln in lines), default=0.0)
    sizes = [c["size"] for ln in lines for c in ln.get("chars", [])[:3]]
    return float(left), float(right), float(statistics.median(sizes)) if sizes else 12.0


def _starts_paragraph(line: dict[str, Any], prev: dict[str, Any] | None, layout: tuple[float, float, float]) -> bool:
    left, right, width = layout
    if prev is None:
        return True
    indented = line["x0"] >= left + INDENT_CHARS * width
    short_before = prev["x1"] < right - SHORT_CHARS * width
    return indented or short_before


def _join(a: str, b: str) -> str:
    """Lines of one paragraph: English words keep a space; Chinese text and numbers ("9" | "0平方米") do not."""
    letters = a[-1:].isascii() and a[-1:].isalpha() and b[:1].isascii() and b[:1].isalpha()
    return a + (" " if letters else "") + b


def _paragraphs(pages: list[list[tuple[float, str, Any]]]) -> list[Block]:
    all_lines = [p for page in pages for _, kind, p in page if kind == "line"]
    layout = _layout(all_lines)
    blocks: list[Block] = []
    prev = None  # the last text line, across a page break: a flush-left first line continues it
    for pno, page in enumerate(pages, start=1):
        for k, (_, kind, payload) in enumerate(page, start=1):
            pos = pno * 1000 + k
            if kind == "row":
                blocks.append(Block(payload, pos, table=True))
                prev = None
                continue
            text = payload["text"].strip()
            if _starts_paragraph(payload, prev, layout) or not blocks or blocks[-1].table:
                blocks.append(Block(text, pos))
            else:
                blocks[-1] = Block(_join(blocks[-1].text, text), blocks[-1].line)
            prev = payload
    return blocks


def extract(data: bytes, source: str) -> Extracted:
    with _open(data, source) as pdf:
        pages = [_page_items(page) for page in pdf.pages]
        n = len(pdf.pages)
    if not any(pages):
        raise CorpusError(
            f"no text layer on any of its {n} page(s): it is a scanned image. Run it through OCR first "
            "(e.g. `ocrmypdf --language chi_sim in.pdf out.pdf`), or add the Word or web version of the document",
            source=source,
        )
    blocks = _paragraphs(pages)
    return Extracted(tuple(blocks), "pdf", "\n".join(b.text for b in blocks), pages=n)
