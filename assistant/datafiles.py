"""Writes to the corpus's reviewed data files, in one place so a deployment can redirect them.

A review-queue resolution may add a colloquial → official synonym. It goes into
``corpus/synonyms.toml`` (the table ``lexicon.py`` reads); ``Assistant.reload()`` then makes it
take effect without a restart.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

from .atomic import write_text_atomically
from .errors import ReviewError

_BAD = re.compile(r'["\\\n\r\t]')


def synonyms_path(corpus_dir: Path) -> Path:
    return corpus_dir / "synonyms.toml"


def add_synonym(path: Path, colloquial: str, officials: Sequence[str], *, known_text: str = "") -> list[str]:
    """Add (or extend) ``colloquial = [officials…]`` in the synonyms table; the entry's new list.

    ``known_text`` is the corpus text: an official term it does not contain would never match
    anything, so it is refused with the reason.
    """
    term = colloquial.strip()
    wanted = [o.strip() for o in officials if o and o.strip()]
    if not 1 <= len(term) <= 20 or not wanted or any(_BAD.search(x) or len(x) > 30 for x in [term, *wanted]):
        raise ReviewError("a synonym needs a colloquial term (1-20 characters) and official terms (at most 30 each), without quotes")
    missing = [o for o in wanted if known_text and o not in known_text]
    if missing:
        raise ReviewError(f"the official terms {missing} do not occur in the policy documents; use the documents' own wording")
    text = path.read_text(encoding="utf-8") if path.exists() else "[synonyms]\n"
    table = tomllib.loads(text).get("synonyms", {})
    merged = list(dict.fromkeys([*table.get(term, []), *wanted]))
    line = f'"{term}" = [{", ".join(f"{chr(34)}{o}{chr(34)}" for o in merged)}]'
    pattern = re.compile(rf"^\"{re.escape(term)}\"\s*=.*$", re.MULTILINE)
    text = pattern.sub(line, text, count=1) if term in table else text.rstrip("\n") + "\n" + line + "\n"
    if tomllib.loads(text).get("synonyms", {}).get(term) != merged:  # never write what the lexicon would read otherwise
        raise ReviewError(f"{path} does not end with its [synonyms] table; add {term!r} by hand")
    write_text_atomically(path, text)
    return merged
