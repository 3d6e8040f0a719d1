"""Retrieval and answer evaluation over a question set."""

from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from assistant import InvalidQuestionError
from assistant.answer import grounding_violations
from assistant.dialog import resolve
from assistant.types import Corpus, Hit, Measure, Reply

from .data import Question

RetrieveFn = Callable[[str], list[int | None]]


def resolved_query(q: Question) -> str:
    """The last turn made to stand alone with the earlier user turns (as the assistant does)."""
    history: list[dict[str, str]] = []
    for t in q.turns[:-1]:
        history.append({"role": "user", "content": t})
    return resolve(q.text, history)


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


# --- retrieval -----------------------------------------------------------------------


@dataclass
class RetrievalResult:
    config: str
    n: int
    hit1: float
    hit3: float
    hit5: float
    mrr: float
    p50_ms: float
    p95_ms: float
    misses: list[dict[str, Any]] = field(default_factory=list)
    by_kind: dict[str, float] = field(default_factory=dict)


def eval_retrieval(name: str, retrieve: RetrieveFn, questions: Sequence[Question]) -> RetrievalResult:
    """hit@k and MRR on answerable questions that name gold measures."""
    qs = [q for q in questions if q.answerable and q.gold]
    h1 = h3 = h5 = 0
    rr = 0.0
    times: list[float] = []
    misses = []
    kinds: dict[str, list[int]] = defaultdict(list)
    for q in qs:
        query = resolved_query(q)
        t0 = time.perf_counter()
        ranked = retrieve(query)[:5]
        times.append((time.perf_counter() - t0) * 1000)
        rank = next((i for i, n in enumerate(ranked, start=1) if n in q.gold), None)
        h1 += rank == 1
        h3 += bool(rank and rank <= 3)
        h5 += bool(rank)
        rr += 1 / rank if rank else 0.0
        kinds[q.kind].append(int(rank == 1))
        if rank != 1:
            misses.append({"id": q.id, "question": " / ".join(q.turns), "gold": list(q.gold), "ranked": ranked})
    n = len(qs) or 1
    return RetrievalResult(
        name,
        len(qs),
        h1 / n,
        h3 / n,
        h5 / n,
        rr / n,
        percentile(times, 50),
        percentile(times, 95),
        misses,
        {k: sum(v) / len(v) for k, v in sorted(kinds.items())},
    )


def hits_to_numbers(hits: Sequence[Hit]) -> list[int | None]:
    return [h.item.number if isinstance(h.item, Measure) else None for h in hits]


# --- answers -------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass
class AnswerRecord:
    id: str
    kind: str
    turns: list[str]
    answerable: bool
    gold: list[int]
    also: list[int]
    answered: bool
    cited: list[int | None]
    text: str
    facts_ok: bool | None
    missing_facts: list[list[str]]
    violations: list[str]
    latency_ms: float
    error: str = ""
    mode: str = ""  # extractive | llm | llm-fallback
    lead_ok: bool | None = None  # the first line holds every fact (answered, answerable, with facts)

    @property
    def length(self) -> int:
        return len(self.text)

    @property
    def cite1(self) -> bool | None:
        if not (self.answerable and self.gold):
            return None
        return bool(self.cited) and self.cited[0] in self.gold

    @property
    def correct(self) -> bool:
        if not self.answerable:
            return not self.answered
        if not self.answered:
            return False
        cite_ok = self.cite1 if self.cite1 is not None else (not self.gold)
        return bool(cite_ok) and self.facts_ok is not False


class Asker(Protocol):
    """What the runner needs of an assistant: ``ask`` and the corpus its citations come from."""

    @property
    def corpus(self) -> Corpus: ...

    def ask(self, question: str, history: Any = None) -> Reply: ...


def ask_question(bot: Asker, q: Question) -> AnswerRecord:
    """Run every turn through ``bot.ask`` with the growing history; score the last reply."""
    history: list[dict[str, str]] = []
    latency = 0.0
    reply = None
    error = ""
    for turn in q.turns:
        t0 = time.perf_counter()
        try:
            reply = bot.ask(turn, history)
        except InvalidQuestionError as ex:
            error, reply = str(ex), None
        latency = (time.perf_counter() - t0) * 1000
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": reply.text if reply else ""}]
    if reply is None:
        return AnswerRecord(
            q.id, q.kind, list(q.turns), q.answerable, list(q.gold), list(q.also), False, [], "", None, [], [], latency, error
        )
    text = _norm(reply.text)
    missing = [list(g) for g in q.facts if not any(_norm(a) in text for a in g)]
    facts_ok = None if not q.answerable else (not missing)
    first = _norm(reply.text.split("\n", 1)[0])
    lead_ok = all(any(_norm(a) in first for a in g) for g in q.facts) if q.answerable and q.facts and reply.answered else None
    return AnswerRecord(
        q.id,
        q.kind,
        list(q.turns),
        q.answerable,
        list(q.gold),
        list(q.also),
        reply.answered,
        [c.item for c in reply.citations],
        reply.text,
        facts_ok,
        missing,
        grounding_violations(reply, bot.corpus) + ([] if reply.answered or not reply.citations else ["citations on a refusal"]),
        latency,
        mode=reply.mode,
        lead_ok=lead_ok,
    )


def answer_metrics(records: Sequence[AnswerRecord]) -> dict[str, Any]:
    """cite@1, citation precision/recall, facts, refusal, violations, latency."""
    ans = [r for r in records if r.answerable]
    una = [r for r in records if not r.answerable]
    with_gold = [r for r in ans if r.gold]
    cite1 = sum(bool(r.cite1) for r in with_gold) / (len(with_gold) or 1)
    precs, recs = [], []
    for r in ans:
        if not r.answered or not r.cited:
            recs.append(0.0 if r.gold else 1.0)
            continue
        ok = set(r.gold) | set(r.also)
        good = [c for c in r.cited if (c in ok) or (c is None and not r.gold)]
        precs.append(len(good) / len(r.cited))
        recs.append(len(set(r.gold) & set(r.cited)) / len(r.gold) if r.gold else float(any(c is None for c in r.cited)))
    facts = [r for r in ans if r.facts_ok is not None]
    lat = [r.latency_ms for r in records]
    kinds: dict[str, list[bool]] = defaultdict(list)
    modes: dict[str, int] = defaultdict(int)
    for r in records:
        kinds[r.kind].append(r.correct)
        if r.mode:
            modes[r.mode] += 1
    return {
        "n": len(records),
        "answerable": len(ans),
        "unanswerable": len(una),
        "cite@1": round(cite1, 4),
        "citation_precision": round(statistics.fmean(precs), 4) if precs else 0.0,
        "citation_recall": round(statistics.fmean(recs), 4) if recs else 0.0,
        "fact_accuracy": round(sum(bool(r.facts_ok) for r in facts) / (len(facts) or 1), 4),
        "refusal_accuracy": round(sum(not r.answered for r in una) / (len(una) or 1), 4),
        "false_refusals": sum(not r.answered for r in ans),
        "false_refusal_rate": round(sum(not r.answered for r in ans) / (len(ans) or 1), 4),
        "grounding_violations": sum(len(r.violations) for r in records),
        "errors": sum(bool(r.error) for r in records),
        "latency_p50_ms": round(percentile(lat, 50), 2),
        "latency_p95_ms": round(percentile(lat, 95), 2),
        "accuracy_by_kind": {k: round(sum(v) / len(v), 4) for k, v in sorted(kinds.items())},
        "modes": dict(sorted(modes.items())),
        **_form_metrics(records),
        "fallback_rate": round(modes.get("llm-fallback", 0) / (modes.get("llm", 0) + modes.get("llm-fallback", 0) or 1), 4),
    }


def _form_metrics(records: Sequence[AnswerRecord]) -> dict[str, Any]:
    """Lead accuracy (the first line holds every fact) and reply length, overall and per kind."""
    answered = [r for r in records if r.answered and r.answerable]
    leads = [r for r in answered if r.lead_ok is not None]
    by_kind: dict[str, dict[str, float]] = {}
    for kind in sorted({r.kind for r in answered}):
        rs = [r for r in answered if r.kind == kind]
        ls = [r for r in rs if r.lead_ok is not None]
        by_kind[kind] = {
            "lead_accuracy": round(sum(bool(r.lead_ok) for r in ls) / len(ls), 4) if ls else float("nan"),
            "length_p50": percentile([r.length for r in rs], 50),
            "length_p90": percentile([r.length for r in rs], 90),
        }
    single = [r for r in answered if len(r.cited) == 1]
    return {
        "lead_accuracy": round(sum(bool(r.lead_ok) for r in leads) / (len(leads) or 1), 4),
        "length_p50": percentile([r.length for r in answered], 50),
        "length_p90": percentile([r.length for r in answered], 90),
        "single_length_p50": percentile([r.length for r in single], 50),
        "single_length_p90": percentile([r.length for r in single], 90),
        "form_by_kind": by_kind,
    }


def record_dict(r: AnswerRecord) -> dict[str, Any]:
    d = asdict(r)
    d["cite1"] = r.cite1
    d["correct"] = r.correct
    return d
