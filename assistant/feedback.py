"""Append-only feedback log (👍/👎 on answers) kept as JSON lines.

A plain file survives restarts and can be read with any tool. Each record is
written with a single ``os.write`` on an ``O_APPEND`` descriptor and then
fsynced, so concurrent writers (threads, or even processes) never interleave
and a crash loses at most the record being written.

>>> log = FeedbackLog(Path("data/feedback.jsonl"))          # doctest: +SKIP
>>> log.add("首次创业有什么补贴？", "…【第25条】", ["第25条"], "up")  # doctest: +SKIP
{'timestamp': '2026-11-29T05:30:00+00:00', 'question': '首次创业有什么补贴？', ...}
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("assistant.feedback")

RATINGS = ("up", "down")
MAX_COMMENT_CHARS = 1000
# Generous caps: the answer is ours (a few KB at most); these only stop abuse from filling the disk.
MAX_TEXT_CHARS = 20_000
MAX_LABELS = 50


class FeedbackSink(Protocol):
    """Where 👍/👎 go: this JSONL log, or the database (``feedback_store.FeedbackStore``)."""

    def add(self, question: str, answer: str, labels: Sequence[str], rating: str, comment: str | None = None) -> dict[str, Any]: ...

    def export_jsonl(self) -> str: ...


def check_feedback(question: Any, answer: Any, labels: Any, rating: Any, comment: Any) -> str:
    """The cleaned comment; ``ValueError`` (English, says the fix) for bad input. The JSONL log and the database share these rules."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be 'up' or 'down', got {rating!r}")
    if not isinstance(question, str) or not isinstance(answer, str):
        raise ValueError("question and answer must be text")
    if len(question) > MAX_TEXT_CHARS or len(answer) > MAX_TEXT_CHARS:
        raise ValueError(f"question and answer are limited to {MAX_TEXT_CHARS} characters each")
    if isinstance(labels, str) or not all(isinstance(x, str) for x in labels) or len(labels) > MAX_LABELS:
        raise ValueError(f"cited labels must be a list of at most {MAX_LABELS} strings, e.g. ['第25条']")
    comment = (comment if isinstance(comment, str) else "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ValueError(f"the comment has {len(comment)} characters; the limit is {MAX_COMMENT_CHARS}")
    return comment


class FeedbackLog:
    """Thread-safe JSONL feedback store at ``path`` (its folder is created if missing)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def add(
        self,
        question: str,
        answer: str,
        labels: Sequence[str],
        rating: str,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Validate and append one record; raise ``ValueError`` (English, says the fix) for bad input."""
        comment = check_feedback(question, answer, labels, rating, comment)
        record: dict[str, Any] = {
            "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "question": question,
            "answer": answer,
            "citations": list(labels),
            "rating": rating,
            "comment": comment or None,
        }
        self._append((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        return record

    def export(self) -> list[dict[str, Any]]:
        """All readable records in order; a line cut short by a crash is skipped (and logged)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        records: list[dict[str, Any]] = []
        for n, line in enumerate(raw.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                log.warning("skipping unreadable feedback line %d in %s", n, self.path)
                continue
            if isinstance(rec, dict):
                records.append(rec)
        return records

    def export_jsonl(self) -> str:
        """The readable records as JSON lines (what the download endpoint serves)."""
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.export())

    def _append(self, data: bytes) -> None:
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                # A crash mid-write leaves a line without "\n"; start on a fresh line so the
                # next record is not glued onto the broken one (export skips only the broken one).
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data
                written = os.write(fd, data)
                while written < len(data):  # regular files rarely write partially; finish if they do
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            finally:
                os.close(fd)
