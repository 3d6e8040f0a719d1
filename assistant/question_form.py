"""Whether a question asks for a list of what applies ("刚认定高企，区里能拿哪些奖补") rather than one
fact: a classifier over the question's characters, learned from the train split's ``aggregate``
questions (``python -m eval fit``), not a list of phrases.

The featurisation is character 1–3-grams, sublinear tf × smoothed idf, l2-normalised
(``ngram.py``, shared with the fit), so the fitted file is read exactly as it was written. The
weights live in ``fitted/question_form.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .ngram import TextLogit

DEFAULT_FORM = Path(__file__).resolve().parent / "fitted" / "question_form.json"


@dataclass(frozen=True)
class FormClassifier:
    """P(the question asks for a list of what applies), and the cut-off chosen when it was fitted."""

    model: TextLogit
    threshold: float
    about: dict[str, Any]

    def proba(self, question: str) -> float:
        return self.model.proba(question)

    def asks_for_list(self, question: str) -> bool:
        return self.proba(question) >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "about": self.about,
            "threshold": self.threshold,
            "intercept": self.model.intercept,
            "ngrams": self.model.grams(),
            "idf": [round(float(x), 5) for x in self.model.idf],
            "coef": [round(float(x), 5) for x in self.model.coef],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FormClassifier:
        grams: Sequence[str] = d["ngrams"]
        if not (len(grams) == len(d["idf"]) == len(d["coef"])):
            raise ConfigError("question_form.json: ngrams, idf and coef differ in length")
        idf, coef = np.asarray(d["idf"], dtype=float), np.asarray(d["coef"], dtype=float)
        model = TextLogit({g: i for i, g in enumerate(grams)}, idf, coef, float(d["intercept"]))
        return cls(model, float(d["threshold"]), dict(d.get("about", {})))


_current: list[FormClassifier] = []  # the classifier in use: the fitted file, or one ``eval fit`` just fitted


def load(path: Path = DEFAULT_FORM) -> FormClassifier:
    """The classifier in ``path``."""
    try:
        return FormClassifier.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as ex:
        raise ConfigError(f"{path}: cannot read the question-form classifier ({ex}); refit it with `python -m eval fit`") from ex


def current() -> FormClassifier:
    """The classifier in use (read once from ``fitted/question_form.json``)."""
    if not _current:
        _current.append(load())
    return _current[0]


def use(classifier: FormClassifier) -> None:
    """Use ``classifier`` from now on (``eval fit`` analyses the questions with the one it just fitted)."""
    _current[:] = [classifier]
