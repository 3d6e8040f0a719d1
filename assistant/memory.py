"""Question memory: labelled training questions, asked again by meaning.

The answer decision's evidence features judge one question against one item. Near misses defeat
them: a question asking for the monthly amount of a subsidy has every term of the item it hits,
yet the item states one lump sum. What those features cannot see, questions already labelled can.
This is a k-nearest-neighbour vote (by e5 similarity) over the *train* split, learned like the
decision's weights, never a list of questions in code. It gives the decision two inputs:

- ``memory_vote`` (the answerer): how many of the nearest training questions were answerable,
  against the document's usual share. Mostly unanswerable neighbours: likely a near miss.
- ``memory_item`` (the ranker): how many of them were answered by this very item, against the
  question's other candidates. A question in words the documents never use has neighbours
  answered by the item that does answer it, so an item none of them was answered by does not win
  on a shared word alone.
- ``memory_text`` (the answerer): a character n-gram model of "does the document answer a question
  worded like this?", fitted per document on the same labelled questions (``ngram.py``), against
  the document's usual share. Neighbours by meaning miss what the wording gives away: a near miss
  asks for a detail (每月发多少, 具体哪几家) in words the vote's nearest questions do not share.

- Entries belong to a document (the one their question was about): items of another document get
  no vote (0.0), so a newly added document starts neutral.
- The vectors come from one embedding model; with another model configured the memory is unusable
  and votes 0.0 (a warning says to refit).
- ``python -m eval fit`` writes it beside the decision (``assistant/fitted/decision.memory.npz``:
  vectors, labels, items, documents and the questions' text for review) and fits the decision on
  votes (and text scores) computed without each question's own writer, so the weight it learns is the one that
  carries over to unseen writers.

Example: with entries A (answered by d#1) and B (unanswerable) of document d, a question whose
vector is almost B's gets a vote near 0 − 0.5 = −0.5; a question about document e gets 0.0.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_atomically
from .errors import ConfigError
from .ngram import TextLogit

log = logging.getLogger(__name__)

NEIGHBOURS = 10  # questions that vote; 5–20 measured alike (leave-one-writer-out on train)
TEMPERATURE = 50.0  # weight exp(T·(cos − best cos)): e5 cosines are bunched, so a 0.02 gap halves a vote
TEXT_C = 3.0  # the text model's regularisation; 1 and 3 measured alike (leave-one-writer-out on train + dev)
TEXT_MIN = 20  # a document's text model needs this many answerable and unanswerable questions


@dataclass(frozen=True)
class Entry:
    """One labelled question: its embedding, whether the documents answer it, and its document."""

    vector: np.ndarray
    answerable: bool
    doc_id: str
    text: str = ""
    item: str = ""  # the key of the item that answers it ("" when none of its candidates does)
    asked: str = ""  # the question as the decision reads it (resolved with its conversation); else ``text``


@dataclass(frozen=True)
class QuestionMemory:
    """Labelled questions by document, and the vote of the nearest ones for a new question."""

    vectors: np.ndarray  # (n, dim) float32, L2-normalised
    answerable: np.ndarray  # (n,) 0/1
    docs: np.ndarray  # (n,) document ids
    texts: np.ndarray  # (n,) the questions, for review
    items: np.ndarray  # (n,) keys of the items that answer them ("" for none)
    model_id: str
    info: dict[str, object] = field(default_factory=dict, compare=False)
    k: int = NEIGHBOURS
    temperature: float = TEMPERATURE
    # Per document: its text model and its share of answerable questions.
    text_models: dict[str, tuple[TextLogit, float]] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, entries: Sequence[Entry], model_id: str, **info: object) -> QuestionMemory:
        dim = entries[0].vector.shape[0] if entries else 0
        return cls(
            # Rounded as they are stored, so votes computed while fitting equal the ones served.
            np.asarray([e.vector for e in entries], dtype=np.float32).reshape(len(entries), dim).astype(np.float16).astype(np.float32),
            np.asarray([int(e.answerable) for e in entries], dtype=np.int8),
            np.asarray([e.doc_id for e in entries], dtype=str),
            np.asarray([e.text for e in entries], dtype=str),
            np.asarray([e.item for e in entries], dtype=str),
            model_id,
            dict(info),
            text_models=_text_models(entries),
        )

    @classmethod
    def empty(cls) -> QuestionMemory:
        """No entries: every vote is 0.0 (used before a fit exists)."""
        return cls.build([], "")

    def __len__(self) -> int:
        return int(self.answerable.shape[0])

    @cached_property
    def _by_doc(self) -> dict[str, tuple[np.ndarray, float]]:
        """Per document: its entries' rows and its share of answerable ones."""
        out = {}
        for doc in set(self.docs.tolist()):
            rows = np.flatnonzero(self.docs == doc)
            out[doc] = (rows, float(self.answerable[rows].mean()))
        return out

    @property
    def doc_ids(self) -> frozenset[str]:
        """The documents it holds questions about."""
        return frozenset(self._by_doc)

    def nearest(self, qvec: np.ndarray | None, doc_id: str) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` entries of ``doc_id`` nearest to ``qvec`` and their weights (summing to 1)."""
        rows = self._by_doc[doc_id][0] if qvec is not None and doc_id in self._by_doc else np.zeros(0, dtype=np.int64)
        if rows.size == 0:
            return rows, np.zeros(0)
        sims = self.vectors[rows] @ np.asarray(qvec, dtype=np.float32)
        top = np.argsort(-sims)[: self.k]
        w = np.exp(self.temperature * (sims[top] - sims[top].max()))
        return rows[top], w / w.sum()

    def vote(self, qvec: np.ndarray | None, doc_id: str) -> float:
        """Weighted share of answerable questions among the nearest entries of ``doc_id``, minus that
        document's overall share; 0.0 without entries or a vector."""
        return self._vote(doc_id, *self.nearest(qvec, doc_id))

    def _vote(self, doc_id: str, rows: np.ndarray, w: np.ndarray) -> float:
        return float(w @ self.answerable[rows] - self._by_doc[doc_id][1]) if rows.size else 0.0

    def text_vote(self, question: str, doc_id: str) -> float:
        """The text model's P(answerable) for ``question`` minus the document's share; 0.0 for a
        document without a text model or an empty question."""
        model = self.text_models.get(doc_id)
        if model is None or not question.strip():
            return 0.0
        return model[0].proba(question) - model[1]

    def columns(
        self, qvec: np.ndarray | None, keys: Sequence[str], docs: Sequence[str], question: str = ""
    ) -> tuple[list[float], list[float], list[float]]:
        """For a question's candidate items (their keys and documents): ``memory_vote`` per item
        (its document's vote), ``memory_item`` (the weight of the nearest entries answered by
        that item, minus the mean over the candidates of the same document, so the items of a
        document without entries all get 0.0) and ``memory_text`` (its document's text vote)."""
        near = {d: self.nearest(qvec, d) for d in set(docs)}
        votes = {d: self._vote(d, rows, w) for d, (rows, w) in near.items()}
        texts = {d: self.text_vote(question, d) for d in near}
        share = [float(near[d][1][self.items[near[d][0]] == key].sum()) for key, d in zip(keys, docs, strict=True)]
        mean = {d: float(np.mean([x for x, e in zip(share, docs, strict=True) if e == d])) for d in near}
        return [votes[d] for d in docs], [x - mean[d] for x, d in zip(share, docs, strict=True)], [texts[d] for d in docs]

    def for_model(self, model_id: str) -> QuestionMemory:
        """This memory if its vectors come from ``model_id``, else an empty one (with a warning)."""
        if len(self) and self.model_id != model_id:
            log.warning("question memory was built with %s, not %s: it is ignored until `python -m eval fit`", self.model_id, model_id)
            return QuestionMemory.empty()
        return self

    # --- file ------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | str) -> QuestionMemory:
        """Read a memory written by :meth:`save` (no pickle); a missing file is an empty memory."""
        path = Path(path)
        if not path.exists():
            log.warning("no question memory at %s; run `python -m eval fit` to create it", path)
            return cls.empty()
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return cls(
                    z["vectors"].astype(np.float32),
                    z["answerable"].astype(np.int8),
                    z["docs"].astype(str),
                    z["texts"].astype(str),
                    z["items"].astype(str),
                    str(meta["model_id"]),
                    meta.get("info", {}),
                    int(meta.get("k", NEIGHBOURS)),
                    float(meta.get("temperature", TEMPERATURE)),
                    _read_text_models(z, meta),
                )
        except (OSError, ValueError, KeyError) as ex:
            raise ConfigError(f"cannot read the question memory at {path} ({ex}); refit it with `python -m eval fit`") from None

    def save(self, path: Path | str) -> None:
        """Write atomically (a temporary file renamed into place), so a reader never sees half a file."""
        path = Path(path)
        meta = {
            "model_id": self.model_id,
            "k": self.k,
            "temperature": self.temperature,
            "entries": len(self),
            "saved_at": _dt.datetime.now().isoformat(timespec="seconds"),
            "info": self.info,
            "text_models": [{"doc": d, "share": share, "intercept": m.intercept} for d, (m, share) in self.text_models.items()],
        }
        arrays: dict[str, Any] = {
            "vectors": self.vectors.astype(np.float16),
            "answerable": self.answerable,
            "docs": self.docs,
            "texts": self.texts,
            "items": self.items,
            "meta": np.asarray(json.dumps(meta, ensure_ascii=False)),
            **_text_arrays(self.text_models),
        }
        write_atomically(path, lambda f: np.savez_compressed(f, **arrays))


# --- the text models -------------------------------------------------------------------------


def _text_models(entries: Sequence[Entry]) -> dict[str, tuple[TextLogit, float]]:
    """One text model per document with at least ``TEXT_MIN`` questions of each label."""
    out = {}
    for doc in sorted({e.doc_id for e in entries}):
        mine = [e for e in entries if e.doc_id == doc]
        y = [int(e.answerable) for e in mine]
        if min(sum(y), len(y) - sum(y)) >= TEXT_MIN:
            m = TextLogit.fit([e.asked or e.text for e in mine], y, TEXT_C)
            # Rounded as they are stored, so scores computed while fitting equal the ones served.
            m = TextLogit(m.vocabulary, _f32(m.idf), _f32(m.coef), m.intercept)
            out[doc] = (m, sum(y) / len(y))
    return out


def _f32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32).astype(float)


def _text_arrays(models: dict[str, tuple[TextLogit, float]]) -> dict[str, np.ndarray]:
    """The text models' vocabularies and weights as flat arrays (row ``i`` belongs to model ``owner[i]``)."""
    parts = [(i, m) for i, (m, _) in enumerate(models.values())]
    return {
        "text_grams": np.asarray([g for _, m in parts for g in m.grams()], dtype=str),
        "text_owner": np.asarray([i for i, m in parts for _ in m.vocabulary], dtype=np.int32),
        "text_idf": np.concatenate([m.idf for _, m in parts] or [np.zeros(0)]).astype(np.float32),
        "text_coef": np.concatenate([m.coef for _, m in parts] or [np.zeros(0)]).astype(np.float32),
    }


def _read_text_models(z: Any, meta: dict[str, Any]) -> dict[str, tuple[TextLogit, float]]:
    """The text models saved by :func:`_text_arrays` (none in a file written before they existed)."""
    specs = meta.get("text_models") or []
    if not isinstance(specs, list) or not specs:
        return {}
    owner = z["text_owner"]
    grams, idf, coef = z["text_grams"].astype(str), z["text_idf"].astype(float), z["text_coef"].astype(float)
    out = {}
    for i, spec in enumerate(specs):
        rows = np.flatnonzero(owner == i)
        vocab = {str(g): j for j, g in enumerate(grams[rows])}
        out[str(spec["doc"])] = (TextLogit(vocab, idf[rows], coef[rows], float(spec["intercept"])), float(spec["share"]))
    return out
