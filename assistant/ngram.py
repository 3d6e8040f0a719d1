"""Character n-gram text models: the featurisation and logistic model shared by the question-form
classifier (``question_form.py``) and the question memory's answerability model (``memory.py``).

A text becomes its character 1–3-grams (whitespace collapsed), weighted by sublinear tf × smoothed
idf and l2-normalised. Fitting (:func:`matrix`) and serving (:meth:`TextLogit.proba`) weigh a text
with the same function, so a fitted model reads a text exactly as it was trained on it. No word
list: the n-grams come from the labelled questions a model is fitted on.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NGRAMS = (1, 3)
MIN_DF = 2  # an n-gram in one text only would name that text, not a pattern
_SPACE = re.compile(r"\s+")


def ngrams(text: str) -> Counter[str]:
    """Character n-grams of a text, whitespace collapsed."""
    text = _SPACE.sub(" ", text.strip())
    return Counter(text[i : i + n] for n in range(NGRAMS[0], NGRAMS[1] + 1) for i in range(len(text) - n + 1))


def vocabulary(texts: Sequence[str], min_df: int = MIN_DF) -> tuple[dict[str, int], np.ndarray]:
    """The n-grams in at least ``min_df`` of ``texts`` (sorted) and their smoothed idf."""
    df = Counter(g for t in texts for g in ngrams(t))
    grams = sorted(g for g, n in df.items() if n >= min_df)
    idf = np.asarray([math.log((1 + len(texts)) / (1 + df[g])) + 1.0 for g in grams])
    return {g: i for i, g in enumerate(grams)}, idf


def _weights(text: str, vocab: dict[str, int], idf: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The columns of ``text``'s known n-grams and their l2-normalised tf-idf weights."""
    cols, vals = [], []
    for gram, count in ngrams(text).items():
        j = vocab.get(gram)
        if j is not None:
            cols.append(j)
            vals.append((1.0 + math.log(count)) * idf[j])
    v = np.asarray(vals, dtype=float)
    norm = float(np.linalg.norm(v)) if v.size else 0.0
    return cols, (v / norm if norm else v)


def matrix(texts: Sequence[str], vocab: dict[str, int], idf: np.ndarray) -> Any:
    """The tf-idf rows of ``texts`` as a sparse CSR matrix (for fitting)."""
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for t in texts:
        cols, vals = _weights(t, vocab, idf)
        indices += cols
        data += vals.tolist()
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(texts), len(vocab)))


@dataclass(frozen=True)
class TextLogit:
    """P(label | text) by logistic regression over a text's n-grams."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: float

    def proba(self, text: str) -> float:
        cols, vals = _weights(text, self.vocabulary, self.idf)
        z = float(vals @ self.coef[cols]) + self.intercept if cols else self.intercept
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def fit(cls, texts: Sequence[str], y: Sequence[int] | np.ndarray, C: float) -> TextLogit:
        """Fit on ``texts`` labelled 0/1 (both labels must occur)."""
        from sklearn.linear_model import LogisticRegression

        vocab, idf = vocabulary(texts)
        lr = LogisticRegression(C=C, max_iter=5000).fit(matrix(texts, vocab, idf), np.asarray(y))
        return cls(vocab, idf, lr.coef_[0].copy(), float(lr.intercept_[0]))

    def grams(self) -> list[str]:
        """The vocabulary in column order (for storing)."""
        return sorted(self.vocabulary, key=self.vocabulary.__getitem__)
