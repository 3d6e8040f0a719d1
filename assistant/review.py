"""The review queue: 👎 answers, refusals and low-confidence answers, and the three ways to resolve them.

(a) a curated answer for the question, (b) a colloquial → official synonym added to the corpus
data (the assistant reloads, so it takes effect without a restart), (c) "not covered by policy"
(the gaps a centre reports upward). Each resolution records who did it and what it did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .curated import CuratedAnswers
from .datafiles import add_synonym
from .errors import ReviewError
from .storage import ConversationStore, ReviewStore

log = logging.getLogger("assistant.review")

REASON_LABELS = {"down": "用户点了没帮助", "refused": "未回答", "low_confidence": "低置信度"}


class ReviewQueue:
    """Lists open items with their question, reply and retrieved items; applies resolutions."""

    def __init__(
        self,
        reviews: ReviewStore,
        conversations: ConversationStore,
        curated: CuratedAnswers,
        *,
        synonyms: Path,
        known_text: Callable[[], str],
        reload: Callable[[], None],
    ) -> None:
        self.reviews = reviews
        self.conversations = conversations
        self.curated = curated
        self.synonyms = synonyms
        self._known_text = known_text
        self._reload = reload

    def items(self, *, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
        """Queue rows joined with what was replied: reply text, citations, retrieved items."""
        out = []
        for row in self.reviews.find(status=status, limit=limit):
            found = self.conversations.get(row["interaction_id"]) if row["interaction_id"] else None
            out.append({**row, "interaction": found})
        return out

    def item(self, review_id: int) -> dict[str, Any]:
        row = self.reviews.get(review_id)
        if row is None:
            raise ReviewError(f"no review item {review_id}; list open items with GET /api/staff/reviews")
        found = self.conversations.get(row["interaction_id"]) if row["interaction_id"] else None
        return {**row, "interaction": found}

    def resolve_curated(
        self, review_id: int, user: str, questions: Sequence[str], answer: str, refs: Sequence[str | int]
    ) -> dict[str, Any]:
        """Write a curated answer for the item's question (always among its examples)."""
        row = self._open(review_id)
        record = self.curated.create([row["question"], *questions], answer, refs, user, note=f"from review item {review_id}")
        return self._done(review_id, "curated", user, {"curated_id": record.id, "version": record.version})

    def resolve_synonym(self, review_id: int, user: str, colloquial: str, officials: Sequence[str]) -> dict[str, Any]:
        """Add the synonym to the corpus data and reload the assistant (index rebuilt if needed)."""
        self._open(review_id)
        merged = add_synonym(self.synonyms, colloquial, officials, known_text=self._known_text())
        self._reload()
        return self._done(review_id, "synonym", user, {"colloquial": colloquial.strip(), "officials": merged})

    def resolve_not_covered(self, review_id: int, user: str, note: str = "") -> dict[str, Any]:
        self._open(review_id)
        return self._done(review_id, "not_covered", user, {"note": note.strip()[:1000]})

    def _open(self, review_id: int) -> dict[str, Any]:
        row = self.reviews.get(review_id)
        if row is None:
            raise ReviewError(f"no review item {review_id}; list open items with GET /api/staff/reviews")
        if row["status"] != "open":
            raise ReviewError(f"review item {review_id} was already resolved by {row['resolved_by']} ({row['resolution']})")
        return row

    def _done(self, review_id: int, resolution: str, user: str, detail: dict[str, Any]) -> dict[str, Any]:
        if not self.reviews.resolve(review_id, resolution, user, detail):
            raise ReviewError(f"review item {review_id} was resolved by someone else meanwhile")
        log.info("review item %d resolved by %s: %s %s", review_id, user, resolution, detail)
        return {"id": review_id, "resolution": resolution, **detail}
