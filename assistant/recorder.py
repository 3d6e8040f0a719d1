"""Log every question answered at the serving edge (API and chat), off the request path.

``Recorder.record`` masks personal data, builds the row and puts it on a queue: that is all a
request pays for (microseconds). One writer thread drains the queue in batches, one transaction
each, and queues for review what needs a human look (refusals, low confidence). A batch that
fails to write is retried, never dropped; ``flush`` waits until everything queued so far is
stored and ``close`` flushes and stops the writer, so shutting down loses nothing.

Library use and evaluation runs call ``Assistant.ask`` directly and are not logged.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any

from .privacy import mask
from .storage import ConversationStore, Interaction, local_day, utcnow
from .types import Reply

log = logging.getLogger("assistant.recorder")

BATCH = 256  # rows per transaction at most; a burst of 50 clients fits in one or two
RETRY_SECONDS = (0.1, 0.5, 1, 2, 5)  # then every 5 s until the database is back
_STOP = object()


def client_id(address: str | None, salt: str) -> str:
    """A short salted hash of the client's address: counts distinct clients without storing addresses."""
    return hashlib.sha256(f"{salt}|{address or '-'}".encode()).hexdigest()[:16]


def review_reasons(reply: Reply, low_confidence: float) -> list[str]:
    """Why an answer needs a human look: a refusal, or a confidence under the setting."""
    if reply.mode == "curated":
        return []
    if not reply.answered:
        return ["refused"]
    if reply.confidence is not None and reply.confidence < low_confidence:
        return ["low_confidence"]
    return []


def interaction(reply: Reply, question: str, history: Sequence[Any], *, latency_ms: float, channel: str, client: str) -> Interaction:
    """The row for one answered question, with personal data masked."""
    curated = next((n for n in reply.notes if n.startswith("curated:")), "")
    return Interaction(
        id=uuid.uuid4().hex,
        created_at=utcnow(),
        day=local_day(),
        channel=channel,
        client=client,
        question=mask(question),
        resolved=mask(reply.question or question),
        history_turns=len(history) // 2,
        reply=mask(reply.text),
        answered=reply.answered,
        mode=reply.mode,
        confidence=reply.confidence,
        citations=[{"key": _key(c), "label": c.label, "title": c.title} for c in reply.citations],
        retrieved=[{"key": h.item.key, "label": h.item.label, "score": round(h.score, 4), "sources": list(h.sources)} for h in reply.hits],
        notes=list(reply.notes),
        latency_ms=round(latency_ms, 2),
        curated_id=int(curated.split(":")[1]) if curated else None,
    )


def _key(c: Any) -> str:
    return f"{c.doc_id}#{c.item}" if c.item is not None else f"{c.doc_id}:{c.label}"


class Recorder:
    """Queue + writer thread in front of a :class:`ConversationStore`."""

    def __init__(self, store: ConversationStore, *, low_confidence: float = 0.5) -> None:
        self.store = store
        self.low_confidence = low_confidence
        self._queue: queue.Queue[Any] = queue.Queue()
        self._writer = threading.Thread(target=self._run, name="conversation-writer", daemon=True)
        self._writer.start()
        self.written = 0
        self.write_ms: deque[float] = deque(maxlen=10_000)  # per batch, for the load report

    def record(self, reply: Reply, question: str, history: Sequence[Any], *, latency_ms: float, channel: str, client: str) -> str:
        """Queue one interaction; its id (returned to the client, and used to link feedback)."""
        item = interaction(reply, question, history, latency_ms=latency_ms, channel=channel, client=client)
        self._queue.put((item, review_reasons(reply, self.low_confidence)))
        return item.id

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued before the call is stored; False on timeout."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._writer.is_alive():
            self._queue.put(_STOP)
            self._writer.join(timeout)

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while True:
            batch, markers, stop = self._take()
            if batch:
                self._write(batch)
            for m in markers:
                m.set()
            if stop:
                return

    def _take(self) -> tuple[list[tuple[Interaction, list[str]]], list[threading.Event], bool]:
        """Block for one item, then take whatever else is already queued (up to BATCH rows)."""
        items = [self._queue.get()]
        while len(items) < BATCH:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        batch = [x for x in items if isinstance(x, tuple)]
        markers = [x for x in items if isinstance(x, threading.Event)]
        return batch, markers, any(x is _STOP for x in items)

    def _write(self, batch: list[tuple[Interaction, list[str]]]) -> None:
        for attempt in range(10**9):
            t0 = time.perf_counter()
            try:
                self.store.add_interactions([b[0] for b in batch], [b[1] for b in batch])
            except Exception:  # noqa: BLE001 - keep the batch and retry; losing records is the failure to avoid
                wait = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                log.exception("writing %d interactions failed (attempt %d); retrying in %.1f s", len(batch), attempt + 1, wait)
                time.sleep(wait)
                continue
            self.write_ms.append((time.perf_counter() - t0) * 1000)
            self.written += len(batch)
            return
