"""👍/👎 feedback kept in the database, behind the same ``add``/``export_jsonl`` as the JSONL log.

The first time a database is used, an existing ``data/feedback.jsonl`` is imported into it (once:
the import is recorded in the ``meta`` table), and the file is left where it was.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .feedback import FeedbackLog, check_feedback
from .privacy import mask
from .storage import ConversationStore, Database, Feedback, local_day, utcnow
from .storage.schema import meta

log = logging.getLogger("assistant.feedback")

_IMPORTED = "feedback_jsonl_imported"


class FeedbackStore:
    """Database-backed feedback; a 👎 enters the review queue."""

    def __init__(self, store: ConversationStore, *, source: str = "api") -> None:
        self.store = store
        self.source = source

    def add(
        self,
        question: str,
        answer: str,
        labels: Sequence[str],
        rating: str,
        comment: str | None = None,
        *,
        interaction_id: str | None = None,
        source: str | None = None,
    ) -> dict[str, Any]:
        comment = check_feedback(question, answer, labels, rating, comment)
        if interaction_id is not None and (not isinstance(interaction_id, str) or len(interaction_id) > 32):
            raise ValueError("id must be the 'id' of the reply being rated (32 characters)")
        now = utcnow()
        record = Feedback(
            now, local_day(now), mask(question), answer, list(labels), rating, mask(comment) or None, source or self.source, interaction_id
        )
        self.store.add_feedback(record)
        return record.export()

    def export(self) -> list[dict[str, Any]]:
        return [f.export() for f in self.store.feedback()]

    def export_jsonl(self) -> str:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.export())


def import_jsonl_once(db: Database, store: ConversationStore, path: Path) -> int:
    """Copy ``feedback.jsonl`` into the database unless a previous run did; records imported.

    The import is claimed first (a row in ``meta``), so two processes starting at once import it once.
    """
    try:
        with db.begin() as conn:
            conn.execute(sa.insert(meta).values(key=_IMPORTED, value="importing"))
    except sa.exc.IntegrityError:
        return 0
    n = 0
    for rec in FeedbackLog(path).export():
        when = _timestamp(rec.get("timestamp"))
        try:
            comment = check_feedback(
                rec.get("question"), rec.get("answer"), rec.get("citations", []), rec.get("rating"), rec.get("comment")
            )
        except ValueError as ex:
            log.warning("not importing a feedback record from %s: %s", path, ex)
            continue
        fb = Feedback(
            when,
            local_day(when),
            mask(rec["question"]),
            rec["answer"],
            list(rec.get("citations", [])),
            rec["rating"],
            mask(comment) or None,
            "import",
        )
        store.add_feedback(fb)
        n += 1
    with db.begin() as conn:
        conn.execute(sa.update(meta).where(meta.c.key == _IMPORTED).values(value=f"{n} records from {path} at {utcnow().isoformat()}"))
    if n:
        log.info("imported %d feedback records from %s", n, path)
    return n


def _timestamp(raw: Any) -> _dt.datetime:
    try:
        when = _dt.datetime.fromisoformat(str(raw))
    except ValueError:
        return utcnow()
    return when.astimezone(_dt.timezone.utc).replace(tzinfo=None) if when.tzinfo else when
