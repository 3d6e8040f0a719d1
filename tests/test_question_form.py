"""The question-form classifier: "what can I get" questions are told from one-fact questions by a
model learned from the train split (no phrase list), its file reads back exactly, and its fit beats
chance on dev."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from assistant import question_form
from assistant.errors import ConfigError
from assistant.features import is_aggregate
from eval.data import load_questions
from eval.fit import writer
from eval.form_fit import fit_form

ROOT = Path(__file__).resolve().parent.parent


# Wordings of no split: a person asking what applies to them, and single-fact questions.
@pytest.mark.parametrize("question", ["我是退伍军人，想开个店，有啥扶持", "我们是做冷链仓储的小企业，区里都有哪些政策能用上"])
def test_a_question_asking_what_applies_is_a_list_question(question: str) -> None:
    assert is_aggregate(question)


@pytest.mark.parametrize("question", ["首次创业补贴是多少钱", "歇业备案最长能歇几年", "我是个体户，年报晚交了会罚吗"])
def test_a_question_asking_one_fact_is_not(question: str) -> None:
    assert not is_aggregate(question)


def test_the_fitted_file_reads_back_to_the_same_probabilities(tmp_path: Path) -> None:
    clf = question_form.current()
    again = question_form.FormClassifier.from_dict(clf.to_dict())
    for q in ("刚开个体户，都有哪些优惠？", "发票 限额"):
        assert again.proba(q) == pytest.approx(clf.proba(q), abs=1e-4)
    broken = tmp_path / "question_form.json"
    broken.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="eval fit"):
        question_form.load(broken)


def test_the_fit_tells_list_questions_apart_on_dev() -> None:
    train = load_questions(ROOT / "eval" / "train.jsonl")
    dev = load_questions(ROOT / "eval" / "dev.jsonl")
    clf, about = fit_form(train, dev, writer)
    assert about["dev"]["f1"] >= 0.8 and about["train_out_of_fold"]["f1"] >= 0.8
    # Without the labels there is nothing to learn: shuffled kinds give a poor out-of-fold F1.
    rng = np.random.default_rng(0)
    kinds = [q.kind for q in train]
    rng.shuffle(kinds)
    shuffled = [dataclasses.replace(q, kind=k) for q, k in zip(train, kinds, strict=True)]
    _, noise = fit_form(shuffled, dev, writer)
    assert noise["train_out_of_fold"]["f1"] < 0.4
    assert clf.threshold > 0
