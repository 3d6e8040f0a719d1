"""The review queue's rows: what needs a human look, and how it was resolved."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .database import Database, dumps, loads, utcnow
from .schema import reviews

REASONS = ("down", "refused", "low_confidence")
RESOLUTIONS = ("curated", "synonym", "not_covered")


def enqueue(db: Database, conn: sa.Connection, *, interaction_id: str | None, feedback_id: int | None, reason: str, question: str) -> None:
    """Queue an interaction (or a feedback record without one) for ``reason``.

    An interaction is queued once; a second reason (a 👎 on a refusal) is added to the same row
    and reopens it if it had been resolved.
    """
    values = {
        "created_at": utcnow(),
        "interaction_id": interaction_id,
        "feedback_id": feedback_id,
        "reasons": reason,
        "question": question,
        "status": "open",
    }
    if interaction_id is None:
        conn.execute(sa.insert(reviews).values(**values))
        return
    merged = sa.case((reviews.c.reasons.contains(reason), reviews.c.reasons), else_=reviews.c.reasons + "," + reason)
    update = {"reasons": merged, "status": "open", "feedback_id": sa.func.coalesce(feedback_id, reviews.c.feedback_id)}
    conn.execute(db.upsert(reviews, values, ["interaction_id"], update))


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def find(self, *, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
        q = sa.select(reviews).order_by(reviews.c.created_at.desc(), reviews.c.id.desc()).limit(limit)
        if status != "all":
            q = q.where(reviews.c.status == status)
        with self.db.begin() as conn:
            return [_row(r) for r in conn.execute(q).mappings()]

    def get(self, review_id: int) -> dict[str, Any] | None:
        with self.db.begin() as conn:
            row = conn.execute(sa.select(reviews).where(reviews.c.id == review_id)).mappings().first()
        return _row(row) if row else None

    def resolve(self, review_id: int, resolution: str, user: str, detail: dict[str, Any]) -> bool:
        """Mark an open item resolved; False if it was not open (resolved meanwhile, or unknown)."""
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {resolution!r}")
        with self.db.begin() as conn:
            done = conn.execute(
                sa.update(reviews)
                .where(reviews.c.id == review_id, reviews.c.status == "open")
                .values(status="resolved", resolution=resolution, resolved_by=user, resolved_at=utcnow(), detail=dumps(detail))
            )
        return bool(done.rowcount)

    def counts(self) -> dict[str, int]:
        with self.db.begin() as conn:
            rows = conn.execute(sa.select(reviews.c.status, sa.func.count()).group_by(reviews.c.status)).all()
        return {r[0]: int(r[1]) for r in rows}


def _row(row: Any) -> dict[str, Any]:
    d = dict(row)
    d["reasons"] = [r for r in d["reasons"].split(",") if r]
    d["detail"] = loads(d["detail"])
    return d
