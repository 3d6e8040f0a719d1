"""The fit's honesty checks on question rows whose answer is known: out-of-fold scores and the
threshold's spread (no index needed: the rows are what ``collect`` would produce)."""

from __future__ import annotations

import numpy as np

from assistant.features import FEATURES
from eval.data import Question
from eval.fit import (
    Rows,
    _rates,
    aggregate_threshold,
    answer_threshold,
    best_of,
    fit_decision,
    out_of_fold_scores,
    scored,
    threshold_spread,
)

COV = FEATURES.index("cov_idf")
SIM = FEATURES.index("sent_max")


def _rows(n: int, seed: int, *, signal: bool = True) -> list[Rows]:
    """``n`` questions of three candidates each; a third are unanswerable. With ``signal`` the answering
    item of an answerable question covers its terms and is similar to it; without, nothing tells."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        answerable = i % 3 != 0
        X = rng.normal(0.0, 0.3, size=(3, len(FEATURES)))
        if signal and answerable:
            X[0, COV] += 2.0
            X[0, SIM] += 2.0
        q = Question(f"q{i}", (f"问题{i}",), (1,) if answerable else (), (), (), answerable, "fact" if answerable else "nearmiss")
        y: list[int | None] = [int(answerable), 0, 0]
        out.append(Rows(q, [f"d#{k}" for k in range(3)], X, y, [answerable, False, False]))
    return out


def _out_of_fold(rows: list[Rows]) -> list[tuple[tuple[int, float], Rows]]:
    return best_of(out_of_fold_scores(rows), rows)


def test_out_of_fold_scores_tell_answerable_from_unanswerable_only_when_the_features_do() -> None:
    honest = _rates(_out_of_fold(_rows(150, 0)), 0.5)
    assert honest["refused_unanswerable"] > 0.9 and honest["refused_answerable"] < 0.1
    # No signal: the ranker's pick is right a third of the time, and the answerer has no grounds to answer.
    noise = _rates(_out_of_fold(_rows(150, 1, signal=False)), 0.5)
    assert noise["cite_at_1"] < 0.5 and noise["refused_answerable"] > 0.5


def test_the_threshold_spread_brackets_the_chosen_threshold() -> None:
    train, dev = _rows(150, 2), _rows(90, 3)
    model, _ = fit_decision(train)
    chosen, _ = answer_threshold(scored(model, dev), 0.05)
    spread = threshold_spread(scored(model, dev), 0.05, draws=50)
    assert 0.0 <= spread["p10"] <= spread["p50"] <= spread["p90"] <= 1.0
    assert spread["p10"] <= chosen <= spread["p90"]


def test_the_answer_threshold_refuses_at_most_the_stated_share_of_answerable_questions() -> None:
    model, _ = fit_decision(_rows(150, 4))
    best = scored(model, _rows(300, 5))
    for share in (0.0, 0.03, 0.1):
        chosen, curve = answer_threshold(best, share)
        answerable = [p for (_, p), r in best if r.q.answerable]
        refused = sum(p < chosen for p in answerable)
        assert refused <= share * len(answerable)
        # … and it is the highest such threshold (to the 4 decimals kept): the next answerable
        # probability up would refuse too many.
        above = sorted(p for p in answerable if p >= chosen + 1e-4)
        assert not above or sum(p < above[0] for p in answerable) > share * len(answerable)
        assert curve and curve[0]["t"] >= chosen


def test_aggregate_answers_cite_down_to_the_lowest_probability_that_keeps_the_stated_precision() -> None:
    # Ten "what can I get" questions, four candidates each in ranker order; the third applies to half
    # of them, the fourth to none: citing three items keeps 5/6 of them right, four only 5/8.
    probs = []
    for i in range(10):
        q = Question(f"q{i}", ("我是个体户，能享受哪些优惠？",), (1, 2), (), (), True, "aggregate")
        third = i % 2 == 0
        rows = Rows(q, [f"d#{k}" for k in range(4)], np.zeros((4, len(FEATURES))), [1, 1, int(third), 0], [True, True, third, False])
        probs.append((np.array([0.9, 0.6, 0.3, 0.08]), 0.9, rows))
    assert aggregate_threshold(probs, 0.5, precision=0.8) == 0.1  # three items: the fourth would cost precision
    assert aggregate_threshold(probs, 0.5, precision=0.9) == 0.35  # two items only
    assert aggregate_threshold(probs, 0.95, precision=0.9) == 1.0  # none answered: no evidence for more
