"""The evaluation gate: a fixed subset through the same runner as `make eval`, against eval/thresholds.toml."""

from __future__ import annotations

from assistant import Assistant
from eval.commands import gate_failures, load_thresholds
from eval.data import load_questions
from eval.runner import answer_metrics, ask_question

from .conftest import ROOT


def test_gate_subset_meets_thresholds(bot: Assistant) -> None:
    questions = load_questions(ROOT / "eval" / "gate.jsonl")
    assert len(questions) >= 40 and len({q.kind for q in questions}) >= 9
    metrics = answer_metrics([ask_question(bot, q) for q in questions])
    failures = gate_failures(metrics, load_thresholds(ROOT / "eval" / "thresholds.toml"))
    assert failures == [], (failures, metrics)


def test_gate_questions_are_part_of_the_full_set() -> None:
    full = {q.id: q for q in load_questions(ROOT / "eval" / "qa.jsonl")}
    for q in load_questions(ROOT / "eval" / "gate.jsonl"):
        assert full[q.id] == q


def test_gate_fails_when_a_threshold_is_missed() -> None:
    th = {"gate": {"cite_at_1": 0.9, "fact_accuracy": 0.9, "refusal_accuracy": 1.0, "max_grounding_violations": 0}}
    good = {"cite@1": 0.95, "fact_accuracy": 0.95, "refusal_accuracy": 1.0, "grounding_violations": 0}
    assert gate_failures(good, th) == []
    assert gate_failures(dict(good, refusal_accuracy=0.97), th) == ["refusal_accuracy 0.970 < 1.0"]
    assert gate_failures(dict(good, grounding_violations=1), th) == ["grounding violations 1"]
