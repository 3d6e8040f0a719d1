"""Figures for the operator: questions per day, answered/refused/curated, 👍/👎, latency, gaps.

"Top unanswered clusters" groups refused questions that mean the same thing (e5 similarity at or
above ``CLUSTER_SIMILARITY``, greedy: each question joins the first cluster whose first question
it matches), so "公积金怎么提取" and "住房公积金怎么取出来" (0.967) count as one policy gap.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .storage import ConversationStore, utcnow

if TYPE_CHECKING:
    from .embed import Embedder

# e5 query-query cosine is compressed: unrelated questions sharing "<district name>…明年" reach 0.91, while
# paraphrases score 0.94-0.98 (eval/curated; the fitted curated threshold is 0.946).
CLUSTER_SIMILARITY = 0.94
MAX_CLUSTERED = 2000  # newest refused questions clustered at most (keeps the page fast)


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(values, p)) if values else 0.0


@dataclass
class DayFigures:
    day: str
    questions: int = 0
    answered: int = 0
    refused: int = 0
    curated: int = 0
    up: int = 0
    down: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)

    def row(self) -> dict[str, Any]:
        rated = self.up + self.down
        return {
            "day": self.day,
            "questions": self.questions,
            "answered": self.answered,
            "refused": self.refused,
            "curated": self.curated,
            "up": self.up,
            "down": self.down,
            "up_rate": round(self.up / rated, 3) if rated else None,
            "latency_p50_ms": round(percentile(self.latencies, 50), 1),
            "latency_p95_ms": round(percentile(self.latencies, 95), 1),
        }


@dataclass
class Report:
    days: list[dict[str, Any]]
    totals: dict[str, Any]
    unanswered: list[dict[str, Any]]  # {"question": representative, "count", "examples"}
    top_cited: list[dict[str, Any]]  # {"label", "title", "count"}

    def to_dict(self) -> dict[str, Any]:
        return {"days": self.days, "totals": self.totals, "unanswered": self.unanswered, "top_cited": self.top_cited}

    def csv(self) -> str:
        """The per-day table as CSV (UTF-8 with BOM, so spreadsheet programs show the Chinese)."""
        out = io.StringIO()
        out.write("\ufeff")
        cols = list(DayFigures("").row())
        writer = csv.DictWriter(out, fieldnames=cols)
        writer.writeheader()
        writer.writerows(self.days)
        return out.getvalue()


def report(store: ConversationStore, embedder: Embedder | None, *, days: int = 30, top: int = 10) -> Report:
    """The figures for the last ``days`` days (today included)."""
    since = utcnow() - _dt.timedelta(days=days)
    rows = store.rows_since(since)
    per_day: dict[str, DayFigures] = {}
    for r in rows:
        d = per_day.setdefault(r["day"], DayFigures(r["day"]))
        d.questions += 1
        d.curated += r["mode"] == "curated"
        d.answered += bool(r["answered"]) and r["mode"] != "curated"
        d.refused += not r["answered"]
        d.latencies.append(float(r["latency_ms"]))
    for day, rating in store.ratings_since(since):
        d = per_day.setdefault(day, DayFigures(day))
        d.up += rating == "up"
        d.down += rating == "down"
    ordered = [per_day[k] for k in sorted(per_day)]
    return Report([d.row() for d in ordered], _totals(ordered), _clusters(rows, embedder, top), _cited(rows, top))


def _totals(days: list[DayFigures]) -> dict[str, Any]:
    total = DayFigures("total")
    for d in days:
        for k in ("questions", "answered", "refused", "curated", "up", "down"):
            setattr(total, k, getattr(total, k) + getattr(d, k))
        total.latencies += d.latencies
    row = total.row()
    row["refusal_rate"] = round(total.refused / total.questions, 3) if total.questions else None
    return row


def _cited(rows: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for r in rows:
        for c in r["citations"] or []:
            counts[c["label"]] += 1
            titles[c["label"]] = c.get("title", "")
    return [{"label": k, "title": titles[k], "count": n} for k, n in counts.most_common(top)]


def _clusters(rows: list[dict[str, Any]], embedder: Embedder | None, top: int) -> list[dict[str, Any]]:
    questions = [r["question"] for r in rows if not r["answered"]][-MAX_CLUSTERED:]
    if not questions:
        return []
    distinct = list(Counter(questions).items())
    groups: list[list[tuple[str, int]]] = [[x] for x in distinct]
    if embedder is not None:
        vecs = embedder.queries([q for q, _ in distinct])
        heads: list[int] = []
        members: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for i, item in enumerate(distinct):
            home = next((h for h in heads if float(vecs[h] @ vecs[i]) >= CLUSTER_SIMILARITY), None)
            if home is None:
                heads.append(i)
                home = i
            members[home].append(item)
        groups = [members[h] for h in heads]
    ranked = sorted(groups, key=lambda g: -sum(n for _, n in g))[:top]
    return [{"question": max(g, key=lambda x: x[1])[0], "count": sum(n for _, n in g), "examples": [q for q, _ in g[:5]]} for g in ranked]
