"""Word (.docx) through python-docx: paragraphs and tables in body order.

Word keeps automatic numbering ("一、", "（一）", "1.") out of the paragraph text, in
``numbering.xml``; it is rendered here (counters per list and level, the level's format and its
text pattern such as ``（%1）``) and put back in front of the text, so ``structure`` sees what a
reader sees. Heading styles ("Heading 1", "标题 1", "Title") give the heading level.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from ..errors import CorpusError
from ._types import Block, Extracted

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CN = "零一二三四五六七八九"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 99 -> 九十九 (larger numbers stay in digits)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN[tens] + "十")
    return head + (_CN[ones] if ones else "")


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X")):
        while n >= value:
            out, n = out + sym, n - value
    return out + ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"][n]


def format_number(n: int, fmt: str) -> str:
    """A counter in one of Word's number formats (``w:numFmt``)."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "ideographDigital"):
        return cn_numeral(n)
    if fmt.startswith("decimalEnclosedCircle") and 0 < n <= len(_CIRCLED):
        return _CIRCLED[n - 1]
    if fmt == "decimalFullWidth":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt in ("upperLetter", "lowerLetter"):
        letter = chr(ord("A") + (n - 1) % 26)
        return letter if fmt == "upperLetter" else letter.lower()
    if fmt in ("upperRoman", "lowerRoman"):
        return _roman(n) if fmt == "upperRoman" else _roman(n).lower()
    if fmt in ("bullet", "none"):
        return ""
    return str(n)


@dataclass
class Numbering:
    """Word's list definitions and the running counters, keyed by list id (``w:numId``)."""

    levels: dict[str, dict[int, tuple[int, str, str]]] = field(default_factory=dict)  # numId -> ilvl -> (start, fmt, text)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def from_part(cls, part: Any) -> Numbering:
        if part is None:
            return cls()
        root = part.element
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for an in root.iter(f"{_W}abstractNum"):
            lv: dict[int, tuple[int, str, str]] = {}
            for lvl in an.iter(f"{_W}lvl"):
                start, fmt, text = (lvl.find(f"{_W}{tag}") for tag in ("start", "numFmt", "lvlText"))
                lv[int(lvl.get(f"{_W}ilvl", "0"))] = (
                    int(start.get(f"{_W}val", "1")) if start is not None else 1,
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "") if text is not None else "",
                )
            abstract[an.get(f"{_W}abstractNumId", "")] = lv
        out = cls()
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is not None:
                out.levels[num.get(f"{_W}numId", "")] = abstract.get(ref.get(f"{_W}val", ""), {})
        return out

    def label(self, num_id: str, ilvl: int) -> str:
        """The rendered number of the next paragraph in list ``num_id`` at level ``ilvl``."""
        levels = self.levels.get(num_id, {})
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl][0] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]  # a higher level restarts the levels below it
        pattern = levels[ilvl][2]
        for k in range(ilvl + 1):
            start, fmt, _ = levels.get(k, (1, "decimal", ""))
            pattern = pattern.replace(f"%{k + 1}", format_number(counters.get(k, start), fmt))
        return pattern


def _num_pr(paragraph: Any) -> tuple[str, int] | None:
    """(numId, ilvl) from the paragraph or, failing that, its style."""
    for owner in (paragraph._p.pPr, getattr(paragraph.style.element, "pPr", None) if paragraph.style is not None else None):
        num_pr = owner.find(f"{_W}numPr") if owner is not None else None
        if num_pr is not None:
            num_id, ilvl = num_pr.find(f"{_W}numId"), num_pr.find(f"{_W}ilvl")
            if num_id is not None and num_id.get(f"{_W}val", "0") != "0":
                return num_id.get(f"{_W}val", ""), int(ilvl.get(f"{_W}val", "0")) if ilvl is not None else 0
    return None


def _heading_level(paragraph: Any) -> int:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    if name in ("Title", "标题"):
        return 1
    m = re.match(r"(?:Heading|标题)\s*(\d)", name)
    return int(m.group(1)) if m else 0


def _rows(table: Any) -> list[str]:
    out = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = re.sub(r"\s+", "", cell.text)
            if text and text not in cells:  # a merged cell repeats in every column it spans
                cells.append(text)
        if cells:
            out.append("｜".join(cells))
    return out


def _open(data: bytes, source: str) -> Any:
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as ex:
        raise CorpusError(
            f"not a readable Word .docx file ({ex.__class__.__name__}); an old .doc must be saved as .docx first", source=source
        ) from None


def extract(data: bytes, source: str) -> Extracted:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = _open(data, source)
    numbering = Numbering.from_part(getattr(document.part, "numbering_part", None))
    blocks: list[Block] = []
    for element in document.element.body.iterchildren():
        if element.tag == f"{_W}tbl":
            blocks += [Block(r, len(blocks) + 1, table=True) for r in _rows(Table(element, document))]
        elif element.tag == f"{_W}p":
            p = Paragraph(element, document)
            text = p.text.strip()
            pr = _num_pr(p)
            label = numbering.label(*pr) if pr else ""
            if text:
                blocks.append(Block(label + text, len(blocks) + 1, heading=_heading_level(p)))
    if not blocks:
        raise CorpusError("the Word document has no text", source=source)
    return Extracted(tuple(blocks), "docx", "\n".join(b.text for b in blocks))
