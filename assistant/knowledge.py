"""Knowledge that is data, not code: colloquial synonyms, sibling terms and place names.

Everything true of one document or one region lives in files beside the documents, loaded by
this general code (like ``jieba.load_userdict``):

- ``corpus/synonyms.toml``   ``[synonyms]`` colloquial word → official terms, for any document;
- ``corpus/knowledge.toml``  ``[suffixes]`` word endings that name a kind (X店 → 个体工商户);
  ``[siblings] groups`` — terms that replace each other in a follow-up, and ``distinct`` — those
  that must not stand in for each other in an answer (国家级/省级/市级); ``[places] names`` — a
  gazetteer of places a question may name; ``[groups] names`` — kinds of people and organisations
  a policy may address (a question about veterans is not answered by an item for founders);
  ``[benefits]`` kinds of benefit by which aggregate answers group their items;
- ``corpus/<doc-id>.toml``   the same tables for one document's own terms (its local board, its
  own districts), merged into the general ones when that document is in the corpus.

A missing file is an empty table; a malformed one raises :class:`CorpusError` naming it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CorpusError

SYNONYMS_FILE = "synonyms.toml"
KNOWLEDGE_FILE = "knowledge.toml"


@dataclass(frozen=True)
class Knowledge:
    """The merged data tables for a corpus."""

    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    siblings: tuple[tuple[str, ...], ...] = ()
    distinct: tuple[tuple[str, ...], ...] = ()  # sibling terms that never stand for each other in an answer
    places: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # kinds of people and organisations a policy may address (退役军人, 个体工商户 …)
    suffixes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # 店 -> 个体工商户: any X店 is a business
    benefits: tuple[tuple[str, tuple[str, ...]], ...] = ()  # kind of benefit -> its words, in checking order
    benefit_order: tuple[str, ...] = ()  # how aggregate answers order the kinds
    files: tuple[Path, ...] = ()  # the files read

    def sibling_group(self, term: str) -> tuple[str, ...]:
        """The sibling group ``term`` belongs to, or ()."""
        return next((g for g in self.siblings if term in g), ())


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as ex:
        raise CorpusError(f"cannot read {path.name}: {ex}", source=str(path)) from None


def _synonyms(data: dict[str, Any], path: Path, key: str = "synonyms") -> dict[str, tuple[str, ...]]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise CorpusError(f"[{key}] must be a table of word = [official terms]", source=str(path))
    bad = [k for k, v in table.items() if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v)]
    if bad:
        raise CorpusError(f"synonyms for {bad[:3]} must be lists of non-empty strings", source=str(path))
    return {k: tuple(v) for k, v in table.items()}


def _string_lists(value: Any, what: str, path: Path) -> list[list[str]]:
    if not isinstance(value, list) or not all(isinstance(g, list) and all(isinstance(x, str) and x for x in g) for g in value):
        raise CorpusError(f"{what} must be a list of lists of strings", source=str(path))
    return value


def _siblings(data: dict[str, Any], path: Path, key: str) -> list[tuple[str, ...]]:
    groups = _string_lists(data.get("siblings", {}).get(key, []), f"[siblings] {key}", path)
    return [tuple(g) for g in groups if len(g) >= 2]


def _names(data: dict[str, Any], path: Path, table: str) -> list[str]:
    names = data.get(table, {}).get("names", [])
    if not isinstance(names, list) or not all(isinstance(x, str) and x for x in names):
        raise CorpusError(f"[{table}] names must be a list of strings", source=str(path))
    return names


def _benefits(data: dict[str, Any], path: Path) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...]]:
    table = data.get("benefits", {})
    words = _synonyms({"words": table.get("words", {})}, path, "words")
    order = table.get("order", [])
    if not isinstance(order, list) or not all(isinstance(x, str) for x in order):
        raise CorpusError("[benefits] order must be a list of kind names", source=str(path))
    return tuple(words.items()), tuple(order)


def _merge_groups(groups: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Groups sharing a term become one (a document may add its local board to the general board group)."""
    merged: list[list[str]] = []
    for g in groups:
        into = next((m for m in merged if set(m) & set(g)), None)
        if into is None:
            merged.append(list(dict.fromkeys(g)))
        else:
            into.extend(t for t in g if t not in into)
    return tuple(tuple(m) for m in merged)


def load_knowledge(directory: Path, doc_ids: Iterable[str] = ()) -> Knowledge:
    """Read the general tables and each document's own, merged."""
    directory = Path(directory)
    paths = [directory / SYNONYMS_FILE, directory / KNOWLEDGE_FILE] + [directory / f"{d}.toml" for d in doc_ids]
    synonyms: dict[str, tuple[str, ...]] = {}
    suffixes: dict[str, tuple[str, ...]] = {}
    groups: list[tuple[str, ...]] = []
    distinct: list[tuple[str, ...]] = []
    places: list[str] = []
    groups_of_people: list[str] = []
    for path in paths:
        data = _read(path)
        for key, official in _synonyms(data, path).items():
            synonyms[key] = tuple(dict.fromkeys(synonyms.get(key, ()) + official))
        for key, official in _synonyms(data, path, "suffixes").items():
            suffixes[key] = tuple(dict.fromkeys(suffixes.get(key, ()) + official))
        groups += _siblings(data, path, "groups")
        distinct += _siblings(data, path, "distinct")
        places += [p for p in _names(data, path, "places") if p not in places]
        groups_of_people += [g for g in _names(data, path, "groups") if g not in groups_of_people]
    files = tuple(p for p in paths if p.exists())
    benefits, order = _benefits(_read(directory / KNOWLEDGE_FILE), directory / KNOWLEDGE_FILE)
    return Knowledge(
        synonyms, _merge_groups(groups), _merge_groups(distinct), tuple(places), tuple(groups_of_people), suffixes, benefits, order, files
    )
