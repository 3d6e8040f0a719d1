"""The evaluation gate: every section of eval/thresholds.toml, each on its question file, through the
same runner as `make eval`. The gate file is a fixed subset of the blind test split."""

from __future__ import annotations

import pytest

from assistant import Assistant
from eval.commands import GATE_KEYS, gate_failures, load_thresholds
from eval.data import load_questions
from eval.runner import answer_metrics, ask_question

from .conftest import ROOT

THRESHOLDS = load_thresholds(ROOT / "eval" / "thresholds.toml")


@pytest.mark.parametrize("section", sorted(THRESHOLDS))
def test_section_meets_its_thresholds(bot: Assistant, section: str) -> None:
    spec = THRESHOLDS[section]
    questions = load_questions(ROOT / spec["qa"])
    metrics = answer_metrics([ask_question(bot, q) for q in questions])
    assert gate_failures(metrics, spec) == [], (section, metrics)


def test_every_threshold_key_is_enforced() -> None:
    for name, spec in THRESHOLDS.items():
        assert set(spec) - {"qa"} <= set(GATE_KEYS), name
        assert (ROOT / spec["qa"]).is_file(), name


def test_gate_questions_are_part_of_the_test_split() -> None:
    test = {q.id: q for q in load_questions(ROOT / "eval" / "test.jsonl")}
    gate = load_questions(ROOT / "eval" / "gate.jsonl")
    assert len(gate) >= 60 and len({q.kind for q in gate}) >= 10
    for q in gate:
        assert test[q.id] == q


def test_gate_fails_when_a_threshold_is_missed() -> None:
    spec = {"qa": "x", "cite_at_1": 0.9, "fact_accuracy": 0.9, "refusal_accuracy": 0.95, "max_false_refusal_rate": 0.05}
    spec["max_grounding_violations"] = 0
    good = {"cite@1": 0.95, "fact_accuracy": 0.95, "refusal_accuracy": 0.97, "false_refusal_rate": 0.02, "grounding_violations": 0}
    assert gate_failures(good, spec) == []
    assert gate_failures(dict(good, refusal_accuracy=0.94), spec) == ["refusal_accuracy 0.940 < 0.95"]
    assert gate_failures(dict(good, false_refusal_rate=0.08), spec) == ["false_refusal_rate 0.080 > 0.05"]
    assert gate_failures(dict(good, grounding_violations=1), spec) == ["grounding_violations 1.000 > 0"]
    with pytest.raises(ValueError, match="unknown threshold keys"):
        gate_failures(good, {**spec, "cite_at_one": 0.9})
