"""The character n-gram text model: serving one text reads it exactly as the fit's matrix did."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.ngram import TextLogit, matrix, ngrams, vocabulary

TEXTS = ["创业补贴多少钱", "创业补贴怎么领", "养老金每月发几次", "养老金  怎么领", "贷款贴息多少", "贷款 每月还几次"]
LABELS = [1, 1, 0, 0, 1, 0]


def test_ngrams_collapse_whitespace_and_count_one_to_three_characters() -> None:
    grams = ngrams(" 补 贴\\n补贴 ")
    assert grams["补"] == 2 and grams["补贴"] == 1 and grams["补 贴"] == 1 and " " in grams
    assert max(len(g) for g in grams) == 3


def test_the_served_score_equals_the_fitted_models_own() -> None:
    from sklearn.linear_model import LogisticRegression

    vocab, idf = vocabulary(TEXTS)
    assert all(sum(g in ngrams(t) for t in TEXTS) >= 2 for g in vocab)  # n-grams of one text are dropped
    X = matrix(TEXTS, vocab, idf)
    assert np.allclose(np.linalg.norm(X.toarray(), axis=1), 1.0)  # every text has a known n-gram: l2-normalised rows
    model = TextLogit.fit(TEXTS, LABELS, C=10.0)
    reference = LogisticRegression(C=10.0, max_iter=5000).fit(X, LABELS).predict_proba(X)[:, 1]
    assert [model.proba(t) for t in TEXTS] == pytest.approx(reference.tolist(), abs=1e-9)
    assert model.proba("创业补贴") > 0.5 > model.proba("养老金每月")
    assert model.proba("完全无关的字") == pytest.approx(1 / (1 + np.exp(-model.intercept)))  # no known n-gram
