"""Curated answers: validated like generated answers, matched before retrieval, retired at once."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.curated import FITTED, CuratedAnswers, CuratedMatcher, fitted_threshold, validate
from assistant.errors import CuratedAnswerError
from assistant.service import Assistant
from assistant.storage import CuratedStore, Database
from assistant.types import Corpus
from eval.curated import confusion, fit

ANSWER = "对符合条件的首次创业人员给予最高5000元一次性创业补贴。"


@pytest.fixture()
def served(bot: Assistant, tmp_path: Path) -> Iterator[tuple[Assistant, CuratedAnswers]]:
    """The session's Assistant (a shallow copy, so no other test sees the matcher) with curated answers."""
    db = Database.open(f"sqlite:///{tmp_path / 'policy.db'}")
    matcher = CuratedMatcher(bot.embedder, fitted_threshold())
    served = copy.copy(bot)
    served.curated = matcher
    yield served, CuratedAnswers(CuratedStore(db), matcher, lambda: bot.corpus)
    db.dispose()


@pytest.mark.parametrize(
    ("refs", "answer", "message"),
    [
        (["第99条"], ANSWER, "does not exist"),
        (["第25条"], "首次创业可领最高8000元补贴。", "8000元"),
        (["第27条"], ANSWER, "5000元"),  # the number is real, but not in the item cited
        ([], ANSWER, "cite at least one item"),
        (["第25条"], ANSWER + "【第27条】", "does not cite it"),
    ],
)
def test_invalid_curated_answers_are_refused_with_the_fix(corpus: Corpus, refs: list[str], answer: str, message: str) -> None:
    with pytest.raises(CuratedAnswerError, match=message):
        validate(corpus, ["首次创业有什么补贴？"], answer, refs)


def test_validation_accepts_the_ways_staff_write_an_item(corpus: Corpus) -> None:
    _, _, keys = validate(corpus, [" 首次创业有什么补贴？ ", ""], ANSWER, ["第25条", "25", "wanbailin-2022-15#25"])
    assert keys == ["wanbailin-2022-15#25"]
    with pytest.raises(CuratedAnswerError, match="example question"):
        validate(corpus, ["  "], ANSWER, ["第25条"])


def test_a_paraphrase_gets_the_curated_answer_with_its_citation(served: tuple[Assistant, CuratedAnswers]) -> None:
    bot, curated = served
    before = bot.ask("第一次创业能领多少钱？")
    assert before.mode == "extractive"
    curated.create(["首次创业有什么补贴？", "第一次创业能领多少钱？"], ANSWER, ["第25条"], "alice")
    reply = bot.ask("首次创业一次性补贴最多多少")
    assert reply.mode == "curated" and reply.answered
    assert reply.text == ANSWER + "【第25条】"
    assert [c.label for c in reply.citations] == ["第25条"] and reply.citations[0].title == "健全首次创业扶持政策"
    assert reply.confidence is not None and reply.confidence >= curated.matcher.threshold
    assert bot.ask("公积金怎么提取").mode != "curated"  # unrelated questions go the normal way
    assert bot.ask("新认定的高新技术企业奖励多少钱？").mode != "curated"


def test_edit_and_retire_take_effect_at_once(served: tuple[Assistant, CuratedAnswers]) -> None:
    bot, curated = served
    rec = curated.create(["首次创业有什么补贴？"], ANSWER, ["第25条"], "alice")
    curated.edit(rec.id, ["首次创业有什么补贴？"], "首次创业人员可申请最高5000元一次性创业补贴。", ["第25条"], "bob")
    assert bot.ask("首次创业有什么补贴？").text.startswith("首次创业人员可申请")
    curated.retire(rec.id, "carol")
    assert bot.ask("首次创业有什么补贴？").mode == "extractive"
    assert [v["author"] for v in curated.store.history(rec.id)] == ["alice", "bob", "carol"]


def test_the_threshold_in_use_is_the_fitted_one_with_its_command() -> None:
    fitted = json.loads(FITTED.read_text(encoding="utf-8"))
    assert fitted["command"] == "python -m eval curated --fit"
    assert fitted_threshold() == fitted["threshold"]
    assert fitted["test"]["n"] > 0 and 0 <= fitted["test"]["precision"] <= 1


def test_fit_picks_the_cut_between_matches_and_near_misses() -> None:
    rows = [
        {"target": "a", "best": "a", "score": 0.97},
        {"target": "b", "best": "b", "score": 0.95},
        {"target": None, "best": "a", "score": 0.93},
        {"target": "a", "best": "a", "score": 0.90},
    ]
    t = fit(rows)
    assert t == pytest.approx(0.94)  # midway between 0.95 and 0.93: two of three found, no false positive
    assert confusion(rows, t) == {"n": 4, "positives": 3, "tp": 2, "fp": 0, "precision": 1.0, "recall": 0.667, "f0.5": 0.909}
