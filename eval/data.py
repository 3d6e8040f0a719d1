"""Question sets: one JSON object a line, validated with line numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

KEYS = {"id", "turns", "gold", "also", "facts", "answerable", "kind"}
OPTIONAL = {"persona", "doc"}  # who asks (founder, shop, operator …); which document the gold numbers refer to
PERSONAS = {"founder", "shop", "rural", "tech", "accountant", "property", "citizen", "operator"}


class QuestionSetError(ValueError):
    """A line of a question file is malformed; the message names the line."""


@dataclass(frozen=True)
class Question:
    id: str
    turns: tuple[str, ...]
    gold: tuple[int, ...]
    also: tuple[int, ...]
    facts: tuple[tuple[str, ...], ...]
    answerable: bool
    kind: str
    persona: str = ""
    doc: str = ""

    @property
    def text(self) -> str:
        return self.turns[-1]


def _check(obj: object, where: str) -> Question:
    if not isinstance(obj, dict):
        raise QuestionSetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing, extra = KEYS - set(obj), set(obj) - KEYS - OPTIONAL
    if missing:
        raise QuestionSetError(f"{where}: missing keys {sorted(missing)}")
    if extra:
        raise QuestionSetError(f"{where}: unknown keys {sorted(extra)}")
    if not isinstance(obj["id"], str) or not obj["id"]:
        raise QuestionSetError(f"{where}: 'id' must be a non-empty string")
    turns = obj["turns"]
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t.strip() for t in turns):
        raise QuestionSetError(f"{where}: 'turns' must be a non-empty list of non-empty strings")
    for key in ("gold", "also"):
        v = obj[key]
        if not isinstance(v, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in v):
            raise QuestionSetError(f"{where}: '{key}' must be a list of positive measure numbers")
    facts = obj["facts"]
    if not isinstance(facts, list) or not all(isinstance(g, list) and g and all(isinstance(a, str) and a for a in g) for g in facts):
        raise QuestionSetError(f"{where}: 'facts' must be a list of non-empty lists of strings")
    if not isinstance(obj["answerable"], bool):
        raise QuestionSetError(f"{where}: 'answerable' must be true or false")
    if not obj["answerable"] and (obj["gold"] or obj["facts"]):
        raise QuestionSetError(f"{where}: an unanswerable question must have empty 'gold' and 'facts'")
    if not isinstance(obj["kind"], str) or not obj["kind"]:
        raise QuestionSetError(f"{where}: 'kind' must be a non-empty string")
    if "persona" in obj and obj["persona"] not in PERSONAS:
        raise QuestionSetError(f"{where}: 'persona' must be one of {sorted(PERSONAS)}")
    if "doc" in obj and (not isinstance(obj["doc"], str) or not obj["doc"]):
        raise QuestionSetError(f"{where}: 'doc' must be a document id")
    return Question(
        id=obj["id"],
        turns=tuple(turns),
        gold=tuple(obj["gold"]),
        also=tuple(obj["also"]),
        facts=tuple(tuple(g) for g in facts),
        answerable=obj["answerable"],
        kind=obj["kind"],
        persona=obj.get("persona", ""),
        doc=obj.get("doc", ""),
    )


def load_questions(path: Path) -> list[Question]:
    """Parse and validate a question file; raises :class:`QuestionSetError` naming the bad line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as ex:
        raise QuestionSetError(f"{path}: cannot read ({ex.strerror})") from None
    except UnicodeDecodeError:
        raise QuestionSetError(f"{path}: not UTF-8 text") from None
    out: list[Question] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as ex:
            raise QuestionSetError(f"{where}: invalid JSON ({ex.msg} at column {ex.colno})") from None
        q = _check(obj, where)
        if q.id in seen:
            raise QuestionSetError(f"{where}: duplicate id {q.id!r}")
        seen.add(q.id)
        out.append(q)
    if not out:
        raise QuestionSetError(f"{path}: no questions")
    return out
