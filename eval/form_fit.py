"""Fit the question-form classifier (``assistant/question_form.py``): does a question ask for a list
of what applies? Run first by ``python -m eval fit``, because the answer decision's features use it.

Labels come from the splits' ``kind``: among answerable questions, ``aggregate`` ones are positive and
every other kind negative (an unanswerable question's kind says it is not covered, not what form it
has, so those are left out). The regularisation strength is chosen by log-loss over folds by writer,
the cut-off by F1 on the same out-of-fold probabilities, and both are reported on dev.
The test split is never read here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from assistant.ngram import TextLogit
from assistant.ngram import matrix as _matrix
from assistant.ngram import vocabulary as _vocabulary
from assistant.question_form import FormClassifier

from .data import Question

CS = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)  # 100 won on 2407 train questions, inside the grid
FOLDS = 5


def _labelled(questions: list[Question]) -> tuple[list[str], np.ndarray]:
    kept = [q for q in questions if q.answerable]
    return [q.turns[-1] for q in kept], np.asarray([int(q.kind == "aggregate") for q in kept])


def _f1_cut(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The cut-off with the best F1 (ties: the higher cut-off), and that F1."""
    best = (0.5, -1.0)
    for t in sorted(set(np.round(p, 4)), reverse=True):
        f = _prf(p >= t, y)["f1"]
        if f > best[1]:
            best = (float(t), f)
    return best


def _prf(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    tp = int((pred & (y == 1)).sum())
    precision = tp / max(1, int(pred.sum()))
    recall = tp / max(1, int(y.sum()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def fit_form(train: list[Question], dev: list[Question], group: Callable[[str], str]) -> tuple[FormClassifier, dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import GroupKFold

    texts, y = _labelled(train)
    groups = np.asarray([group(q.id) for q in train if q.answerable])
    vocabulary, idf = _vocabulary(texts)
    X = _matrix(texts, vocabulary, idf)
    losses: dict[float, float] = {}
    oof: dict[float, np.ndarray] = {}
    for C in CS:
        p = np.zeros(len(y))
        for tr, te in GroupKFold(n_splits=FOLDS).split(X, y, groups):
            p[te] = LogisticRegression(C=C, max_iter=5000).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
        losses[C], oof[C] = float(log_loss(y, p)), p
    C = min(losses, key=losses.__getitem__)
    cut, _ = _f1_cut(oof[C], y)
    model = TextLogit.fit(texts, y, C)  # the same vocabulary and matrix as above, on all of train
    dev_texts, dev_y = _labelled(dev)
    dev_p = np.asarray([model.proba(t) for t in dev_texts])
    about = {
        "C": C,
        "ngrams": len(vocabulary),
        "train_questions": len(y),
        "train_positives": int(y.sum()),
        "train_out_of_fold": _prf(oof[C] >= cut, y),
        "dev": _prf(dev_p >= cut, dev_y),
        "dev_questions": len(dev_y),
    }
    return FormClassifier(model, cut, about), about
