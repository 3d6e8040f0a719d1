"""Curated answers and their version history (who changed what, and when)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .database import Database, dumps, loads, utcnow
from .schema import curated_answers, curated_versions


@dataclass(frozen=True)
class CuratedRecord:
    """The current state of one curated answer."""

    id: int
    status: str  # active | retired
    version: int
    questions: list[str]
    answer: str
    citations: list[str]  # item keys, e.g. "wanbailin-2022-15#25"
    updated_by: str
    updated_at: Any


class CuratedStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, questions: list[str], answer: str, citations: list[str], author: str, note: str | None = None) -> CuratedRecord:
        now = utcnow()
        values = {"status": "active", "version": 1, "questions": dumps(questions), "answer": answer, "citations": dumps(citations)}
        with self.db.begin() as conn:
            row = {**values, "created_at": now, "created_by": author, "updated_at": now, "updated_by": author}
            cid = int(conn.execute(sa.insert(curated_answers).values(**row).returning(curated_answers.c.id)).scalar_one())
            conn.execute(sa.insert(curated_versions).values(curated_id=cid, author=author, created_at=now, note=note, **values))
        return self._get(cid)

    def update(
        self,
        cid: int,
        author: str,
        *,
        questions: list[str] | None = None,
        answer: str | None = None,
        citations: list[str] | None = None,
        status: str | None = None,
        note: str | None = None,
    ) -> CuratedRecord:
        """A new version with the given fields changed; ``KeyError`` if there is no such answer."""
        old = self._get(cid)
        now = utcnow()
        values = {
            "status": status or old.status,
            "version": old.version + 1,
            "questions": dumps(old.questions if questions is None else questions),
            "answer": old.answer if answer is None else answer,
            "citations": dumps(old.citations if citations is None else citations),
        }
        with self.db.begin() as conn:
            changed = conn.execute(
                sa.update(curated_answers)
                .where(curated_answers.c.id == cid, curated_answers.c.version == old.version)
                .values(updated_at=now, updated_by=author, **values)
            )
            if not changed.rowcount:  # someone else saved a version in between
                raise KeyError(f"curated answer {cid} changed while saving; reload it and try again")
            conn.execute(sa.insert(curated_versions).values(curated_id=cid, author=author, created_at=now, note=note, **values))
        return self._get(cid)

    def find(self, *, status: str | None = "active") -> list[CuratedRecord]:
        q = sa.select(curated_answers).order_by(curated_answers.c.id)
        if status:
            q = q.where(curated_answers.c.status == status)
        with self.db.begin() as conn:
            return [_record(r) for r in conn.execute(q).mappings()]

    def get(self, cid: int) -> CuratedRecord | None:
        try:
            return self._get(cid)
        except KeyError:
            return None

    def history(self, cid: int) -> list[dict[str, Any]]:
        q = sa.select(curated_versions).where(curated_versions.c.curated_id == cid).order_by(curated_versions.c.version)
        with self.db.begin() as conn:
            rows = conn.execute(q).mappings().all()
        return [{**r, "questions": loads(r["questions"]), "citations": loads(r["citations"])} for r in rows]

    def _get(self, cid: int) -> CuratedRecord:
        with self.db.begin() as conn:
            row = conn.execute(sa.select(curated_answers).where(curated_answers.c.id == cid)).mappings().first()
        if row is None:
            raise KeyError(f"no curated answer {cid}")
        return _record(row)


def _record(row: Any) -> CuratedRecord:
    return CuratedRecord(
        id=row["id"],
        status=row["status"],
        version=row["version"],
        questions=loads(row["questions"]),
        answer=row["answer"],
        citations=loads(row["citations"]),
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
    )
