"""Running the assistant as a service: everything the serving edge needs besides the ``Assistant``.

``Operations.open(settings, bot)`` connects the database (migrating it), imports the old
``feedback.jsonl`` once, starts the conversation writer, loads the curated answers into a matcher
and injects it into ``bot`` so ``ask`` returns them, and purges records past the retention period
(now, then hourly). ``close()`` flushes the log and stops the background threads.
"""

from __future__ import annotations

import datetime as _dt
import logging
import secrets
import threading
from typing import TYPE_CHECKING

import sqlalchemy as sa

from .auth import Staff
from .curated import CuratedAnswers, CuratedMatcher, fitted_threshold
from .datafiles import synonyms_path
from .feedback_store import FeedbackStore, import_jsonl_once
from .ratelimit import RateLimiter
from .recorder import Recorder, client_id
from .review import ReviewQueue
from .settings import Settings
from .storage import AccountStore, ConversationStore, CuratedStore, Database, ReviewStore, utcnow
from .storage.schema import meta

if TYPE_CHECKING:
    from .service import Assistant

log = logging.getLogger("assistant.ops")

PURGE_EVERY_SECONDS = 3600


class Operations:
    def __init__(self, settings: Settings, bot: Assistant, db: Database) -> None:
        self.settings = settings
        self.bot = bot
        self.db = db
        self.conversations = ConversationStore(db)
        self.recorder = Recorder(self.conversations, low_confidence=settings.review_confidence)
        self.feedback = FeedbackStore(self.conversations)
        self.staff = Staff(AccountStore(db), session_hours=settings.session_hours)
        threshold = settings.curated_threshold if settings.curated_threshold is not None else fitted_threshold()
        self.matcher = CuratedMatcher(bot.embedder, threshold)
        self.curated = CuratedAnswers(CuratedStore(db), self.matcher, lambda: bot.corpus)
        self.reviews = ReviewQueue(
            ReviewStore(db),
            self.conversations,
            self.curated,
            synonyms=synonyms_path(settings.corpus_dir),
            known_text=lambda: bot.engine.known_text,
            reload=bot.reload,
        )
        self.limiter = RateLimiter(per_minute=settings.ask_rate_per_minute, burst=settings.ask_burst)
        self.salt = _salt(db)
        self._stop = threading.Event()
        self._purger = threading.Thread(target=self._purge_loop, name="retention", daemon=True)

    @classmethod
    def open(cls, settings: Settings, bot: Assistant) -> Operations:
        db = Database.open(settings.database)
        ops = cls(settings, bot, db)
        import_jsonl_once(db, ops.conversations, settings.data_dir / "feedback.jsonl")
        bot.curated = ops.matcher
        ops._purger.start()
        return ops

    def client(self, address: str | None) -> str:
        """What the log keeps of a client's address: a salted hash."""
        return client_id(address, self.salt)

    def purge(self) -> int:
        """Delete what is older than the retention period; rows deleted (0 when retention is off)."""
        if not self.settings.retention_days:
            return 0
        self.recorder.flush()
        n = self.conversations.purge(utcnow() - _dt.timedelta(days=self.settings.retention_days))
        if n:
            log.info("retention: deleted %d records older than %d days", n, self.settings.retention_days)
        return n

    def close(self) -> None:
        self._stop.set()
        self.recorder.close()
        self.db.dispose()

    def _purge_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.purge()
            except Exception:  # noqa: BLE001 - a failed purge is retried next hour; it must not stop serving
                log.exception("retention purge failed")
            self._stop.wait(PURGE_EVERY_SECONDS)


def _salt(db: Database) -> str:
    """The per-database salt for hashing client addresses (made once, so hashes stay comparable)."""
    with db.begin() as conn:
        row = conn.execute(sa.select(meta.c.value).where(meta.c.key == "client_salt")).first()
        if row:
            return str(row[0])
        salt = secrets.token_hex(16)
        conn.execute(sa.insert(meta).values(key="client_salt", value=salt))
        return salt
