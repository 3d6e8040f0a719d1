"""The conversation log: questions with their replies, and the 👍/👎 feedback on them."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from .database import Database, dumps, loads
from .reviews import enqueue
from .schema import feedback, interactions, reviews


@dataclass(frozen=True)
class Interaction:
    """One question answered at the serving edge, as stored (``question`` already masked)."""

    id: str
    created_at: _dt.datetime
    day: str
    channel: str
    client: str
    question: str
    resolved: str
    history_turns: int
    reply: str
    answered: bool
    mode: str
    confidence: float | None
    citations: list[dict[str, Any]]
    retrieved: list[dict[str, Any]]
    notes: list[str]
    latency_ms: float
    curated_id: int | None = None

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("citations", "retrieved", "notes"):
            d[key] = dumps(d[key])
        return d


@dataclass(frozen=True)
class Feedback:
    """A 👍/👎 on an answer (question and comment already masked)."""

    created_at: _dt.datetime
    day: str
    question: str
    answer: str
    citations: list[str]
    rating: str
    comment: str | None
    source: str
    interaction_id: str | None = None

    def export(self) -> dict[str, Any]:
        """The JSON-lines export record (the same fields the JSONL log had, plus the interaction)."""
        when = self.created_at.replace(tzinfo=_dt.timezone.utc).isoformat(timespec="seconds")
        return {
            "timestamp": when,
            "question": self.question,
            "answer": self.answer,
            "citations": self.citations,
            "rating": self.rating,
            "comment": self.comment,
            "interaction_id": self.interaction_id,
        }


class ConversationStore:
    """Writes and reads interactions and feedback; queues what needs a human look."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_interactions(self, batch: Sequence[Interaction], review_reasons: Sequence[list[str]]) -> None:
        """Insert a batch in one transaction, and queue each interaction that has review reasons."""
        with self.db.begin() as conn:
            conn.execute(sa.insert(interactions), [i.row() for i in batch])
            for item, reasons in zip(batch, review_reasons, strict=True):
                for reason in reasons:
                    enqueue(self.db, conn, interaction_id=item.id, feedback_id=None, reason=reason, question=item.question)

    def add_feedback(self, record: Feedback) -> int:
        """Insert one feedback record (a 👎 also enters the review queue); its id."""
        values = {k: v for k, v in asdict(record).items()}
        values["citations"] = dumps(record.citations)
        with self.db.begin() as conn:
            fid = int(conn.execute(sa.insert(feedback).values(**values).returning(feedback.c.id)).scalar_one())
            if record.rating == "down":
                enqueue(self.db, conn, interaction_id=record.interaction_id, feedback_id=fid, reason="down", question=record.question)
        return fid

    def feedback(self) -> list[Feedback]:
        with self.db.begin() as conn:
            rows = conn.execute(sa.select(feedback).order_by(feedback.c.id)).mappings().all()
        return [_feedback(r) for r in rows]

    def get(self, interaction_id: str) -> dict[str, Any] | None:
        with self.db.begin() as conn:
            row = conn.execute(sa.select(interactions).where(interactions.c.id == interaction_id)).mappings().first()
        return _interaction(row) if row else None

    def search(self, text: str = "", *, limit: int = 50) -> list[dict[str, Any]]:
        """The newest interactions whose question or reply contains ``text``."""
        q = sa.select(interactions).order_by(interactions.c.created_at.desc()).limit(limit)
        if text:
            like = f"%{text}%"
            q = q.where(sa.or_(interactions.c.question.like(like), interactions.c.reply.like(like)))
        with self.db.begin() as conn:
            return [_interaction(r) for r in conn.execute(q).mappings()]

    def missing(self, ids: Iterable[str]) -> list[str]:
        """Which of ``ids`` have no stored interaction (the load test's lost-record check)."""
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        with self.db.begin() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                found |= set(conn.execute(sa.select(interactions.c.id).where(interactions.c.id.in_(chunk))).scalars())
        return [x for x in wanted if x not in found]

    def count(self) -> int:
        with self.db.begin() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(interactions)).scalar_one())

    def purge(self, before: _dt.datetime) -> int:
        """Delete interactions, feedback and closed reviews older than ``before``; rows deleted."""
        with self.db.begin() as conn:
            n = conn.execute(sa.delete(interactions).where(interactions.c.created_at < before)).rowcount
            n += conn.execute(sa.delete(feedback).where(feedback.c.created_at < before)).rowcount
            n += conn.execute(sa.delete(reviews).where(reviews.c.created_at < before)).rowcount
        return int(n)

    def rows_since(self, since: _dt.datetime) -> list[dict[str, Any]]:
        """Interactions since ``since`` with the columns analytics needs."""
        cols = [interactions.c[k] for k in ("id", "day", "question", "answered", "mode", "latency_ms", "citations")]
        with self.db.begin() as conn:
            rows = conn.execute(sa.select(*cols).where(interactions.c.created_at >= since)).mappings().all()
        return [{**r, "citations": loads(r["citations"])} for r in rows]

    def ratings_since(self, since: _dt.datetime) -> list[tuple[str, str]]:
        """(day, rating) of every feedback record since ``since``."""
        with self.db.begin() as conn:
            rows = conn.execute(sa.select(feedback.c.day, feedback.c.rating).where(feedback.c.created_at >= since)).all()
        return [(r[0], r[1]) for r in rows]


def _interaction(row: Any) -> dict[str, Any]:
    d = dict(row)
    for key in ("citations", "retrieved", "notes"):
        d[key] = loads(d[key]) or []
    return d


def _feedback(row: Any) -> Feedback:
    return Feedback(
        created_at=row["created_at"],
        day=row["day"],
        question=row["question"],
        answer=row["answer"],
        citations=loads(row["citations"]) or [],
        rating=row["rating"],
        comment=row["comment"],
        source=row["source"],
        interaction_id=row["interaction_id"],
    )
