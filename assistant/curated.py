"""Curated answers: reviewed replies for frequent questions, returned when a new question matches.

Like Dify's annotation reply, MaxKB's "direct return" and QAnything's FAQ, a question close
enough to one of a curated answer's example questions gets that answer as it was written. Unlike
them, the answer keeps its citations, and those are checked when it is saved: the cited items
exist and every number in the text is in them (``answer.grounding_violations``, the rule
generated answers obey). "Close enough" is the cosine similarity of e5 query embeddings above a
threshold fitted on paraphrases (``python -m eval curated``, kept in ``fitted/curated.json``),
not a guessed 0.9.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .answer import grounding_violations
from .errors import CuratedAnswerError
from .types import Citation, Corpus, Measure, Reply

if TYPE_CHECKING:
    from .embed import Embedder
    from .storage import CuratedRecord, CuratedStore

log = logging.getLogger("assistant.curated")

FITTED = Path(__file__).resolve().parent / "fitted" / "curated.json"
MAX_QUESTIONS = 20
MAX_QUESTION_CHARS = 200
MAX_ANSWER_CHARS = 2000
_REF = re.compile(r"^(?:第\s*)?(\d{1,4})(?:\s*条)?$")
_TAG = re.compile(r"【[^【】]{1,40}】")
_SENTENCE = re.compile(r"[^。；！？]*[。；！？]?")


def fitted_threshold(path: Path = FITTED) -> float:
    """The match threshold fitted by ``python -m eval curated --fit``."""
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["threshold"])
    except (OSError, ValueError, KeyError, TypeError) as ex:
        raise CuratedAnswerError(f"cannot read the fitted threshold in {path} ({ex}); run `python -m eval curated --fit`") from None


def item_key(corpus: Corpus, ref: str | int) -> str:
    """A citation as typed by staff (25, "第25条", "doc#25", "doc#goals") -> the item key; unknown refs raise."""
    text = str(ref).strip()
    m = _REF.match(text)
    key = f"{corpus.document().id}#{m.group(1)}" if m else text
    try:
        corpus.item(key)
    except KeyError:
        most = len(corpus.document().measures)
        raise CuratedAnswerError(f"cited item {text!r} does not exist; cite measures as 第N条 with N in 1..{most}") from None
    return key


def citation(corpus: Corpus, key: str) -> Citation:
    """The citation card for an item, quoting its first sentence."""
    item = corpus.item(key)
    doc = corpus.document(item.doc_id)
    first = next((s for s in _SENTENCE.findall(item.text) if s.strip()), item.text)
    if isinstance(item, Measure):
        return Citation(item.number, item.label, item.title, item.category, list(item.departments), first, doc.id, doc.number)
    return Citation(None, item.label, item.heading, "", list(item.departments), first, doc.id, doc.number)


def _text_with_tags(answer: str, citations: Sequence[Citation]) -> str:
    """The answer with 【第N条】 tags appended unless it already carries them (as generated answers do)."""
    if _TAG.search(answer):
        return answer
    return answer.rstrip() + "".join(f"【{c.label}】" for c in citations)


def validate(corpus: Corpus, questions: Sequence[str], answer: str, refs: Sequence[str | int]) -> tuple[list[str], str, list[str]]:
    """(questions, answer, item keys) cleaned, or ``CuratedAnswerError`` saying what to fix."""
    qs = list(dict.fromkeys(q.strip() for q in questions if isinstance(q, str) and q.strip()))
    if not qs:
        raise CuratedAnswerError("give at least one example question the curated answer is for")
    if len(qs) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION_CHARS for q in qs):
        raise CuratedAnswerError(f"give at most {MAX_QUESTIONS} example questions of at most {MAX_QUESTION_CHARS} characters each")
    answer = (answer or "").strip()
    if not answer or len(answer) > MAX_ANSWER_CHARS:
        raise CuratedAnswerError(f"the answer text must have 1..{MAX_ANSWER_CHARS} characters")
    keys = list(dict.fromkeys(item_key(corpus, r) for r in refs if str(r).strip()))
    if not keys:
        raise CuratedAnswerError("cite at least one item (e.g. 第25条) that supports the answer")
    labels = {corpus.item(k).label for k in keys}
    stray = [t for t in _TAG.findall(answer) if t.strip("【】") not in labels]
    if stray:
        raise CuratedAnswerError(f"the answer names {''.join(stray)} but does not cite it; add it to the cited items or remove the tag")
    reply = Reply(answer, True, [citation(corpus, k) for k in keys])
    bad = grounding_violations(reply, corpus)
    if bad:
        cited = "、".join(corpus.item(k).label for k in keys)
        raise CuratedAnswerError(
            f"the numbers {', '.join(bad)} are not in the cited items ({cited}); cite the item that states them or remove them"
        )
    return qs, answer, keys


@dataclass(frozen=True)
class _Entries:
    """What the matcher compares against, swapped as one when curated answers change."""

    records: tuple[CuratedRecord, ...]
    owners: np.ndarray  # for each example-question row, the index into ``records``
    vectors: np.ndarray  # L2-normalised e5 query embeddings of the example questions


class CuratedMatcher:
    """Finds the curated answer for a question; ``match`` is what ``Assistant.ask`` calls."""

    def __init__(self, embedder: Embedder, threshold: float) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._entries = _Entries((), np.zeros(0, dtype=int), np.zeros((0, 1), dtype=np.float32))

    def load(self, records: Sequence[CuratedRecord]) -> None:
        """Replace the active answers (embeds their example questions once)."""
        active = tuple(r for r in records if r.status == "active")
        questions = [q for r in active for q in r.questions]
        owners = np.array([i for i, r in enumerate(active) for _ in r.questions], dtype=int)
        self._entries = _Entries(active, owners, self.embedder.queries(questions))

    def scores(self, question: str) -> list[tuple[CuratedRecord, float]]:
        """Each active answer with its best similarity to ``question``, best first."""
        e = self._entries
        if not e.records:
            return []
        sims = e.vectors @ self.embedder.queries([question])[0]
        best = np.full(len(e.records), -1.0)
        np.maximum.at(best, e.owners, sims)
        order = np.argsort(-best)
        return [(e.records[i], float(best[i])) for i in order]

    def match(self, question: str, corpus: Corpus) -> Reply | None:
        """The curated reply for ``question`` if one matches at or above the threshold, else None."""
        ranked = self.scores(question)
        if not ranked or ranked[0][1] < self.threshold:
            return None
        record, score = ranked[0]
        try:
            cites = [citation(corpus, k) for k in record.citations]
        except KeyError:  # the corpus changed under it; staff see it as invalid in the list
            log.warning("curated answer %d cites an item that no longer exists; not used", record.id)
            return None
        note = f"curated:{record.id}:v{record.version}"
        reply = Reply(_text_with_tags(record.answer, cites), True, cites, mode="curated", notes=[note], question=question, confidence=score)
        if grounding_violations(reply, corpus):
            log.warning("curated answer %d is no longer supported by its items; not used", record.id)
            return None
        return reply


class CuratedAnswers:
    """Create, edit and retire curated answers; the matcher sees every change at once."""

    def __init__(self, store: CuratedStore, matcher: CuratedMatcher, corpus: Any) -> None:
        self.store = store
        self.matcher = matcher
        self._corpus = corpus  # a callable returning the current corpus (it changes on reload)
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        with self._lock:
            self.matcher.load(self.store.find(status="active"))

    def create(
        self, questions: Sequence[str], answer: str, refs: Sequence[str | int], author: str, note: str | None = None
    ) -> CuratedRecord:
        qs, text, keys = validate(self._corpus(), questions, answer, refs)
        record = self.store.create(qs, text, keys, author, note)
        self.refresh()
        return record

    def edit(self, cid: int, questions: Sequence[str], answer: str, refs: Sequence[str | int], author: str) -> CuratedRecord:
        qs, text, keys = validate(self._corpus(), questions, answer, refs)
        record = self._change(cid, author, questions=qs, answer=text, citations=keys)
        self.refresh()
        return record

    def retire(self, cid: int, author: str) -> CuratedRecord:
        record = self._change(cid, author, status="retired")
        self.refresh()
        return record

    def _change(self, cid: int, author: str, **changes: Any) -> CuratedRecord:
        try:
            return self.store.update(cid, author, **changes)
        except KeyError as ex:
            raise CuratedAnswerError(str(ex).strip("'\"")) from None
