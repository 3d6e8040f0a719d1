"""The question memory: its vote, its file, how ``eval fit`` keeps a question's own writer out of
its vote, and that the shipped memory holds train questions only."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.decide import DEFAULT_MODEL, DecisionModel
from assistant.errors import ConfigError
from assistant.features import FEATURES
from assistant.memory import TEXT_MIN, Entry, QuestionMemory
from eval.data import Question
from eval.fit import MEMORY_COLUMNS, Rows, fill_memory, memory_entries, memory_path

ROOT = Path(__file__).resolve().parent.parent


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


A, B, C = _unit(1, 0, 0), _unit(0, 1, 0), _unit(0, 0, 1)


def _memory() -> QuestionMemory:
    return QuestionMemory.build(
        [
            Entry(A, True, "d", "甲", "d#1"),
            Entry(_unit(1, 0.05, 0), True, "d", "甲2", "d#1"),
            Entry(B, False, "d", "乙"),
            Entry(C, False, "e", "丙"),
        ],
        "model-x",
    )


def test_the_vote_follows_the_nearest_questions_of_the_items_document() -> None:
    memory = _memory()
    # Document d holds two answerable questions of three: its base rate is 2/3.
    assert memory.vote(A, "d") == pytest.approx(1 - 2 / 3, abs=1e-3)
    assert memory.vote(B, "d") == pytest.approx(0 - 2 / 3, abs=1e-3)
    assert memory.vote(B, "d") < memory.vote(_unit(1, 1, 0), "d") < memory.vote(A, "d")  # halfway: in between
    # Another document's questions never vote, and no vector or no entries means no information.
    assert memory.vote(C, "new-doc") == 0.0
    assert memory.vote(None, "d") == 0.0
    assert QuestionMemory.empty().vote(A, "d") == 0.0


def test_the_item_column_favours_the_item_the_nearest_questions_were_answered_by() -> None:
    votes, items, _ = _memory().columns(A, ["d#2", "d#1", "e#1", "new#1"], ["d", "d", "e", "new"])
    assert votes[0] == votes[1] > 0 and votes[3] == 0.0
    # d#1 answered A and its twin: it gets all the weight, less the mean over d's candidates; the
    # items of other documents are not pushed down by it.
    assert items == pytest.approx([-0.5, 0.5, 0.0, 0.0], abs=1e-3)
    # A question near the unanswerable B: no candidate is favoured.
    assert _memory().columns(B, ["d#1", "d#2"], ["d", "d"])[1] == pytest.approx([0.0, 0.0], abs=1e-3)


def test_the_file_round_trips_without_pickle_and_bad_files_say_how_to_fix_them(tmp_path: Path) -> None:
    memory = _memory()
    path = tmp_path / "m.npz"
    memory.save(path)
    back = QuestionMemory.load(path)
    assert len(back) == 4 and back.model_id == "model-x" and list(back.texts) == ["甲", "甲2", "乙", "丙"]
    assert list(back.items) == ["d#1", "d#1", "", ""]
    for q in (A, B, _unit(1, 1, 1)):
        assert back.vote(q, "d") == pytest.approx(memory.vote(q, "d"), abs=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind
    path.write_bytes(b"not a numpy file")
    with pytest.raises(ConfigError, match="eval fit"):
        QuestionMemory.load(path)
    assert len(QuestionMemory.load(tmp_path / "missing.npz")) == 0


def _worded_memory() -> QuestionMemory:
    """Document d: answerable questions ask 多少 of a subsidy, unanswerable ones 每月 of a pension;
    all share one vector, so only their words tell them apart."""
    ask = [f"第{i}项创业补贴多少钱" for i in range(TEXT_MIN)]
    miss = [f"第{i}项养老金每月发几次" for i in range(TEXT_MIN)]
    entries = [Entry(A, True, "d", t, "d#1") for t in ask] + [Entry(A, False, "d", t) for t in miss]
    return QuestionMemory.build([*entries, Entry(C, False, "e", "丙")], "model-x")


def test_the_text_model_scores_a_question_by_its_wording_within_its_document(tmp_path: Path) -> None:
    memory = _worded_memory()
    assert set(memory.text_models) == {"d"}  # e has too few questions of each label for a model
    covered, missed = memory.text_vote("创业补贴多少钱", "d"), memory.text_vote("养老金每月发几次", "d")
    assert covered > 0.2 and missed < -0.2  # against d's share of answerable questions (1/2)
    assert memory.text_vote("养老金每月发几次", "e") == memory.text_vote("", "d") == 0.0
    # The memory_text column: one value per document, 0.0 where no text model exists.
    texts = memory.columns(A, ["d#1", "d#2", "e#1"], ["d", "d", "e"], "养老金每月发几次")[2]
    assert texts[0] == texts[1] == pytest.approx(missed) and texts[2] == 0.0
    # Stored without pickle and read back to the same scores.
    path = tmp_path / "m.npz"
    memory.save(path)
    back = QuestionMemory.load(path)
    for q in ("创业补贴多少钱", "养老金每月发几次", "补贴发几次"):
        assert back.text_vote(q, "d") == pytest.approx(memory.text_vote(q, "d"), abs=1e-9)


def test_the_text_model_learns_from_the_labels_not_the_wording_alone() -> None:
    # The same questions with the labels swapped: the scores swap sign.
    memory = _worded_memory()
    flipped = QuestionMemory.build([dataclasses.replace(e, answerable=not e.answerable) for e in _entries(memory)], "model-x")
    assert flipped.text_vote("创业补贴多少钱", "d") == pytest.approx(-memory.text_vote("创业补贴多少钱", "d"), abs=1e-6)


def _entries(memory: QuestionMemory) -> list[Entry]:
    return [
        Entry(v, bool(a), str(d), str(t), str(i))
        for v, a, d, t, i in zip(memory.vectors, memory.answerable, memory.docs, memory.texts, memory.items, strict=True)
    ]


def test_vectors_of_another_embedding_model_are_not_used() -> None:
    assert len(_memory().for_model("model-x")) == 4
    assert len(_memory().for_model("other-model")) == 0


def _row(qid: str, vec: np.ndarray, answerable: bool) -> Rows:
    q = Question(qid, (qid,), (1,) if answerable else (), (), (), answerable, "fact")
    X = np.zeros((2, len(FEATURES)))
    return Rows(q, ["d#1", "d#2"], X, [int(answerable), 0], [answerable, False], qvecs=[vec], docs=[["d", "d"]])


def test_a_question_is_remembered_by_its_gold_item_not_an_also_item_retrieved_above_it() -> None:
    # Candidates in retrieval order: d#2 is only acceptable ("also"), d#1 is the gold item.
    q = Question("k1", ("k1",), (1,), (2,), (), True, "fact")
    row = Rows(q, ["d#2", "d#1"], np.zeros((2, len(FEATURES))), [None, 1], [True, True], qvecs=[A], docs=[["d", "d"]])
    also_only = Rows(q, ["d#2", "d#3"], np.zeros((2, len(FEATURES))), [None, 0], [True, False], qvecs=[A], docs=[["d", "d"]])
    assert [e.item for e in memory_entries([row, also_only])] == ["d#1", "d#2"]


def test_fit_keeps_a_questions_own_writer_out_of_its_vote() -> None:
    # Writer m wrote two paraphrases of an unanswerable question; writers k and p answerable ones elsewhere.
    twin = _unit(0, 1, 0.01)
    train = [_row("m1", B, False), _row("m2", twin, False), _row("k1", A, True), _row("p1", _unit(1, 0, 0.1), True)]
    dev = [_row("d1", B, False)]
    memory = fill_memory(train, dev, "model-x")
    assert len(memory) == 4
    # m1's vote comes from k and p only: both answerable, so it carries no sign of m2, its twin.
    vote, item, _ = MEMORY_COLUMNS
    assert train[0].X[0, vote] == pytest.approx(0.0, abs=1e-6)
    # k1's vote comes from m and p: p1, its nearest, was answered by d#1, so d#1 is favoured over d#2.
    assert train[2].X[0, item] > 0 > train[2].X[1, item]
    # A dev question votes with all of train, and finds the two unanswerable ones nearest.
    assert dev[0].X[0, vote] < -0.4
    assert dev[0].X[1, vote] == dev[0].X[0, vote]  # one vote per document


def test_fit_keeps_a_questions_own_writer_out_of_its_text_score() -> None:
    # Writer m's questions are worded alike and all unanswerable; k's and p's, worded otherwise,
    # answerable and not. Without its writer, an m question's wording is new: its score stays near 0;
    # with m's own questions in the memory (dev), the same wording is clearly a near miss.
    def row(qid: str, text: str, answerable: bool) -> Rows:
        r = _row(qid, A, answerable)
        r.asked = [text]
        return r

    train = [row(f"m{i}", f"养老金每月发几次{i}", False) for i in range(TEXT_MIN)]
    for w in "kp":
        train += [row(f"{w}{i}", f"创业补贴多少钱{w}{i}", True) for i in range(TEXT_MIN)]
        train += [row(f"{w}x{i}", f"住房公积金{w}{i}", False) for i in range(TEXT_MIN // 2)]
    dev = [row("d1", "养老金每月发几次", False)]
    fill_memory(train, dev, "model-x")
    text = MEMORY_COLUMNS[2]
    assert abs(train[0].X[0, text]) < abs(dev[0].X[0, text]) and dev[0].X[0, text] < -0.2


def _texts(path: Path) -> set[str]:
    return {" → ".join(json.loads(line)["turns"]) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def test_the_shipped_memory_holds_train_questions_only_and_belongs_to_the_shipped_decision() -> None:
    decision = DecisionModel.load(DEFAULT_MODEL)
    path = memory_path(DEFAULT_MODEL)
    assert decision.info["memory_file"] == path.name
    memory = QuestionMemory.load(path)
    assert len(memory) == decision.info["memory_entries"] > 1000
    assert memory.model_id == decision.info["model_id"]
    texts = set(memory.texts.tolist())
    assert texts <= _texts(ROOT / "eval" / "train.jsonl")
    assert not texts & (_texts(ROOT / "eval" / "test.jsonl") | _texts(ROOT / "eval" / "dev.jsonl"))


def test_the_assistant_feeds_the_vote_to_the_answer_decision(bot: Assistant) -> None:
    assert len(bot.memory) > 1000
    reading = bot.analyse("小微企业贷款有什么优惠政策？").readings[0]
    votes = reading.X[:, FEATURES.index("memory_vote")]
    assert np.all(votes == votes[0]) and votes[0] != 0.0  # one document: one vote, and it is used
    assert -1.0 <= votes[0] <= 1.0
    items = reading.X[:, FEATURES.index("memory_item")]
    assert abs(items.sum()) < 1e-6 and items.max() > 0  # centred over the candidates; some item is favoured
    texts = reading.X[:, FEATURES.index("memory_text")]
    assert np.all(texts == texts[0]) and texts[0] != 0.0  # the shipped memory has a text model of the seed


def test_documents_the_memory_does_not_know_get_the_decision_fitted_without_it(bot: Assistant) -> None:
    model = DecisionModel.load(DEFAULT_MODEL)
    plain = model.without_memory()
    assert plain is not model and plain.thresholds != model.thresholds
    # Fitted with the memory columns at 0: they carry no weight there.
    for name in ("memory_vote", "memory_item", "memory_text"):
        logistic = plain.ranker if name == "memory_item" else plain.answerer
        assert logistic.coef[logistic.features.index(name)] == 0.0
    assert DecisionModel.from_dict(model.to_dict()).without_memory().to_dict() == plain.to_dict()
    seed = bot.analyse("首次创业补贴多少钱？").readings[0]
    assert bot._model_for(seed) is bot.model
    moved = [dataclasses.replace(h, item=dataclasses.replace(h.item, doc_id="new-doc")) for h in seed.hits]
    elsewhere = dataclasses.replace(seed, hits=moved)
    assert bot._model_for(elsewhere) is bot.model.without_memory()
