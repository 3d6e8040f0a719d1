"""Exceptions raised by the assistant.

Every message says what went wrong and how to fix it. "No evidence for a
question" is not an error: it is a ``Reply(answered=False)``.

    AssistantError
    ├── ConfigError          bad setting or environment variable
    ├── CorpusError          a policy document is missing, malformed or truncated
    ├── IndexBuildError      building or loading the search index failed
    ├── InvalidQuestionError the question or history cannot be answered as given
    ├── LLMError             the configured LLM server failed (callers fall back)
    ├── StorageError         the database cannot be reached or written
    ├── CuratedAnswerError   a curated answer fails validation (unknown item, unsupported number)
    ├── ReviewError          a review-queue resolution cannot be applied
    └── AccessError          a staff login, session or token is missing or invalid (HTTP 401)
        └── ForbiddenError   the staff user may not do this (HTTP 403)
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class; its message is safe to show to a user."""


class ConfigError(AssistantError):
    """A setting has an invalid value."""


class CorpusError(AssistantError):
    """A policy document could not be parsed.

    ``source`` names the file and ``line`` the 1-based line where parsing
    stopped, when known.
    """

    def __init__(self, message: str, *, source: str = "", line: int | None = None) -> None:
        where = source + (f":{line}" if line is not None else "")
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.line = line


class IndexBuildError(AssistantError):
    """The index could not be built, loaded or written."""


class InvalidQuestionError(AssistantError):
    """The question (or its history) is empty, too long or malformed."""


class LLMError(AssistantError):
    """The configured LLM endpoint failed or timed out."""


class StorageError(AssistantError):
    """The conversation database cannot be reached or written."""


class CuratedAnswerError(AssistantError):
    """A curated answer is invalid: no example question, an unknown item, or a number no cited item has."""


class ReviewError(AssistantError):
    """A review-queue item cannot be resolved as asked (unknown item, already resolved, bad synonym)."""


class AccessError(AssistantError):
    """No valid staff login, session or token: who is asking is unknown."""


class ForbiddenError(AccessError):
    """The staff user is known but may not do this (e.g. not an administrator)."""
