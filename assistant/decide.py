"""The answer decision: two small logistic regressions over evidence features, fitted on train.

1. **Which item.** The *ranker* scores every retrieved item: P(this item answers the question),
   from the pair features of ``features.FEATURES``. Items are cited in that order.
2. **Whether to answer.** The *answerer* looks at the best item only, with the features that
   say whether the question is covered at all (coverage, the rarest missing concept, unknown
   words, answer type, sibling conflicts …), how the nearest labelled training questions went
   (``memory.py``), plus the ranker's confidence and margin:
   P(the documents answer the question, and with this item). Separating the two matters: which
   of ten items fits best is decided by relative signals (ranks, margins), whether the best one
   answers by absolute ones, and one model fitted on both tasks weighs the second too lightly.

Then, with thresholds chosen on the dev split for a stated precision:

- answer with the best item when the answerer's probability reaches ``thresholds.answer``,
  adding items whose ranker probability reaches ``thresholds.aggregate`` for "what can I get as
  a …" questions, or ``thresholds.second`` otherwise;
- offer up to three related items, not citations, when it is between ``thresholds.related``
  and ``thresholds.answer`` (the honest middle outcome);
- say 未找到 otherwise.

The fitted parameters are a small JSON file (``assistant/fitted/decision.json``), written by
``python -m eval fit`` with the command, the data and the cross-validated scores that produced
it: readable in review, safe to load (no pickle), refitted when the corpus or features change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .features import FEATURES
from .types import Hit

DEFAULT_MODEL = Path(__file__).resolve().parent / "fitted" / "decision.json"
MAX_RELATED = 3
MAX_AGGREGATE = 8

# What the answerer sees: the best item's absolute evidence, and how sure the ranker is of it.
ANSWER_FEATURES: tuple[str, ...] = (
    "cov_idf",
    "cov_spec",
    "cov_exact",
    "sent_cov",
    "miss_idf_max",
    "miss_spec_max",
    "miss_both_max",
    "miss_noun_idf",
    "miss_noun_spec",
    "miss_verb_idf",
    "abbrev_share",
    "last_term_presence",
    "unknown_share",
    "unknown_spec_max",
    "n_terms",
    "sent_max",
    "bm25_abs",
    "both",
    "is_section",
    "is_facts",
    "docfact_q",
    "aggregate_q",
    "docfact_x_facts",
    "money_missing",
    "percent_missing",
    "count_missing",
    "duration_missing",
    "phrase_cov",
    "date_missing",
    "procedure_missing",
    "materials_missing",
    "fee_missing",
    "value_absent",
    "addresses_assistant",
    "sent_z",
    "distinct_conflict",
    "group_missing",
    "place_unknown",
    "place_not_in_item",
    "memory_vote",
    "memory_text",
    "rank_logit",
    "rank_margin",
)
_COLUMNS = [FEATURES.index(f) for f in ANSWER_FEATURES[:-2]]
# What the ranker sees: every pair feature but the question memory's ``memory_vote`` and
# ``memory_text``, which are the same for every item of a document and say whether the question is
# covered, not by which item (its ``memory_item`` does say which, and stays).
RANK_FEATURES: tuple[str, ...] = tuple(f for f in FEATURES if f not in ("memory_vote", "memory_text"))
_RANK_COLUMNS = [FEATURES.index(f) for f in RANK_FEATURES]


def rank_input(X: np.ndarray) -> np.ndarray:
    """The ranker's columns of a feature matrix (rows of :data:`FEATURES`)."""
    return X[:, _RANK_COLUMNS] if X.size else X.reshape(0, len(RANK_FEATURES))


@dataclass(frozen=True)
class Thresholds:
    answer: float  # answerer probability needed to answer
    related: float  # answerer probability needed to suggest related items
    second: float  # ranker probability at which a second item is cited (non-aggregate questions)
    aggregate: float  # ranker probability at which further items are cited for aggregate questions
    switch: float = 0.0  # a turn's other reading (``Analysis.readings[1]``) wins by this much probability


@dataclass(frozen=True)
class Scored:
    hit: Hit
    p: float  # the ranker's probability
    # For an item cited for one question of a message that asks several: that question, and its
    # embedding, to choose the item's sentences by (``Assistant._with_parts``).
    question: str = ""
    qvec: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Decision:
    outcome: str  # "answer" | "related" | "none"
    cite: list[Scored] = field(default_factory=list)
    related: list[Scored] = field(default_factory=list)
    confidence: float = 0.0  # the answerer's probability


@dataclass(frozen=True)
class Logistic:
    """A standardised logistic regression: p = σ(((x − mean) / scale) · coef + intercept)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def proba(self, X: np.ndarray) -> np.ndarray:
        if X.size == 0:
            return np.zeros(0)
        z = ((X - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Logistic:
        arr = {k: np.asarray(raw[k], dtype=np.float64) for k in ("mean", "scale", "coef")}
        return cls(tuple(raw["features"]), arr["mean"], arr["scale"], arr["coef"], float(raw["intercept"]))

    def to_dict(self) -> dict[str, Any]:
        r = lambda xs: [round(float(x), 6) for x in xs]  # noqa: E731
        return {
            "features": list(self.features),
            "mean": r(self.mean),
            "scale": r(self.scale),
            "coef": r(self.coef),
            "intercept": round(self.intercept, 6),
        }

    @classmethod
    def zero(cls, features: tuple[str, ...]) -> Logistic:
        n = len(features)
        return cls(features, np.zeros(n), np.ones(n), np.zeros(n), 0.0)


def answer_row(X: np.ndarray, p_rank: np.ndarray, top: int) -> np.ndarray:
    """The answerer's input for the item at ``top``: its absolute features plus the ranker's view."""
    p = float(np.clip(p_rank[top], 1e-6, 1 - 1e-6))
    others = np.delete(p_rank, top)
    margin = p - float(others.max()) if others.size else p
    return np.concatenate([X[top, _COLUMNS], [np.log(p / (1 - p)), margin]])


@dataclass(frozen=True)
class DecisionModel:
    """The ranker, the answerer and the decision thresholds; and ``plain``, the same fitted with
    the question memory's columns at 0, for questions about documents the memory knows nothing of
    (the weights learned next to the memory lean on it, and would refuse too much without it)."""

    ranker: Logistic
    answerer: Logistic
    thresholds: Thresholds
    info: dict[str, Any] = field(default_factory=dict, compare=False)
    plain: DecisionModel | None = None

    def without_memory(self) -> DecisionModel:
        """The decision for questions whose candidates the question memory has no votes for."""
        return self.plain or self

    @classmethod
    def load(cls, path: Path | str = DEFAULT_MODEL) -> DecisionModel:
        """Read a fitted model; its feature lists must match the code's."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no fitted answer decision at {path}; run `python -m eval fit` to create it") from None
        except (OSError, ValueError) as ex:
            raise ConfigError(f"cannot read the answer decision at {path}: {ex}") from None
        try:
            model = cls.from_dict(raw)
        except (KeyError, TypeError, ValueError) as ex:
            raise ConfigError(f"{path} is not a fitted answer decision ({ex}); refit it with `python -m eval fit`") from None
        if any(m.ranker.features != RANK_FEATURES or m.answerer.features != ANSWER_FEATURES for m in (model, model.without_memory())):
            raise ConfigError(f"{path} was fitted on other features than this code computes; refit it with `python -m eval fit`")
        return model

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DecisionModel:
        info = {k: v for k, v in raw.items() if k not in ("ranker", "answerer", "thresholds", "plain")}
        plain = cls.from_dict(raw["plain"]) if raw.get("plain") else None
        return cls(Logistic.from_dict(raw["ranker"]), Logistic.from_dict(raw["answerer"]), Thresholds(**raw["thresholds"]), info, plain)

    def to_dict(self) -> dict[str, Any]:
        return {
            "thresholds": {k: round(v, 4) for k, v in self.thresholds.__dict__.items()},
            "ranker": self.ranker.to_dict(),
            "answerer": self.answerer.to_dict(),
            **self.info,
            **({"plain": self.plain.to_dict()} if self.plain is not None else {}),
        }

    @classmethod
    def neutral(cls) -> DecisionModel:
        """No weights (every probability 0.5): lets ``eval fit`` analyse questions before a fit exists."""
        return cls(Logistic.zero(RANK_FEATURES), Logistic.zero(ANSWER_FEATURES), Thresholds(1.0, 1.0, 1.0, 1.0), {"neutral": True})

    def score(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """(ranker probability per item, answerer probability for the best one)."""
        p_rank = self.ranker.proba(rank_input(X))
        if p_rank.size == 0:
            return p_rank, 0.0
        top = int(np.argmax(p_rank))
        return p_rank, float(self.answerer.proba(answer_row(X, p_rank, top)[None, :])[0])

    def decide(self, hits: Sequence[Hit], X: np.ndarray, *, aggregate: bool) -> Decision:
        """Which items to cite, suggest, or neither (see the module docstring)."""
        refs = [Scored(h, 1.0) for h in hits if "ref" in h.sources]
        if refs:
            return Decision("answer", refs[:3], confidence=1.0)  # an explicit "第N条" that exists
        if not hits:
            return Decision("none")
        p_rank, confidence = self.score(X)
        scored = sorted((Scored(h, float(p)) for h, p in zip(hits, p_rank, strict=True)), key=lambda s: -s.p)
        t = self.thresholds
        if confidence >= t.answer:
            extra = t.aggregate if aggregate else t.second
            limit = MAX_AGGREGATE if aggregate else 2
            cite = [scored[0]] + [s for s in scored[1:] if s.p >= extra][: limit - 1]
            return Decision("answer", cite, confidence=confidence)
        if confidence >= t.related:
            floor = min(t.second, scored[0].p)
            return Decision("related", related=[s for s in scored if s.p >= floor][:MAX_RELATED], confidence=confidence)
        return Decision("none", confidence=confidence)
