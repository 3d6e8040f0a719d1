"""Reviewed corrections (``corpus/corrections.toml``): fixes for OCR errors no rule can make (交又重复 -> 交叉重复).

Each names its document and how often its text occurs there, so a fix that no longer matches the
document fails loudly instead of silently doing nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CorpusError
from .tree import Para


@dataclass(frozen=True)
class Correction:
    """A reviewed fix for an OCR error, applied after clean-up."""

    doc: str
    find: str
    replace: str
    why: str
    count: int = 1


def load_corrections(path: Path) -> list[Correction]:
    """Read ``corrections.toml``; a missing file means no corrections."""
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as ex:
        raise CorpusError(f"cannot read corrections: {ex}", source=str(path)) from None
    out = []
    for i, c in enumerate(data.get("correction", []), start=1):
        missing = {"doc", "find", "replace", "why"} - set(c)
        if missing:
            raise CorpusError(f"correction #{i} lacks {sorted(missing)}", source=str(path))
        out.append(Correction(c["doc"], c["find"], c["replace"], c["why"], int(c.get("count", 1))))
    return out


def apply_corrections(paras: list[Para], fixes: Iterable[Correction], source: str) -> None:
    for fix in fixes:
        found = sum(p.text.count(fix.find) for p in paras)
        if found != fix.count:
            raise CorpusError(
                f"correction {fix.find!r} -> {fix.replace!r} matched {found} times, expected {fix.count}; "
                "review corpus/corrections.toml against the document",
                source=source,
            )
        for p in paras:
            p.text = p.text.replace(fix.find, fix.replace)
