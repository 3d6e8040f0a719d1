"""Tables (SQLAlchemy Core) and the numbered migrations that create and change them.

A database records the migrations it has had in ``schema_version``; ``Database.migrate`` applies
the missing ones in order, each in its own transaction. To change the schema, edit the tables
here *and* append a migration that brings an existing database to the same shape (an
``ALTER TABLE`` through ``conn.execute``); never edit a migration that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# One row per question answered at the serving edge (API or chat), with what was replied.
interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("day", sa.String(10), nullable=False, index=True),  # local date, for per-day figures
    sa.Column("channel", sa.String(16), nullable=False),  # api | chat
    sa.Column("client", sa.String(16), nullable=False),  # salted hash of the address, never the address
    sa.Column("question", sa.Text, nullable=False),  # masked (privacy.mask)
    sa.Column("resolved", sa.Text, nullable=False),  # as resolved with the history
    sa.Column("history_turns", sa.Integer, nullable=False),
    sa.Column("reply", sa.Text, nullable=False),
    sa.Column("answered", sa.Boolean, nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("citations", sa.Text, nullable=False),  # JSON [{"key", "label", "title"}]
    sa.Column("retrieved", sa.Text, nullable=False),  # JSON [{"key", "label", "score", "sources"}]
    sa.Column("notes", sa.Text, nullable=False),  # JSON list of strings
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("curated_id", sa.Integer, nullable=True),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("interaction_id", sa.String(32), nullable=True, index=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("citations", sa.Text, nullable=False),  # JSON list of labels, e.g. ["第25条"]
    sa.Column("rating", sa.String(4), nullable=False),  # up | down
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("source", sa.String(16), nullable=False),  # api | chat | import
)

# The review queue: one row per interaction (or per feedback record without one).
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("interaction_id", sa.String(32), nullable=True, unique=True),
    sa.Column("feedback_id", sa.Integer, nullable=True),
    sa.Column("reasons", sa.String(64), nullable=False),  # comma-separated: down, refused, low_confidence
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False, index=True),  # open | resolved
    sa.Column("resolution", sa.String(16), nullable=True),  # curated | synonym | not_covered
    sa.Column("resolved_by", sa.String(64), nullable=True),
    sa.Column("resolved_at", sa.DateTime, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),  # JSON: what the resolution did
)

curated_answers = sa.Table(
    "curated_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),  # active | retired
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("questions", sa.Text, nullable=False),  # JSON list of example questions
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("citations", sa.Text, nullable=False),  # JSON list of item keys, e.g. ["wanbailin-2022-15#25"]
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)

# Every state a curated answer has had: who changed what, and when.
curated_versions = sa.Table(
    "curated_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("curated_id", sa.Integer, nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("questions", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("citations", sa.Text, nullable=False),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.UniqueConstraint("curated_id", "version"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id, with its own salt and parameters
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Staff UI logins and staff API tokens; only a SHA-256 of each secret is stored.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
)

_V1 = [meta, interactions, feedback, reviews, curated_answers, curated_versions, users, sessions, api_tokens]


def _v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=_V1)


# (version, description, migration). Append only.
MIGRATIONS: list[tuple[int, str, Callable[[sa.Connection], None]]] = [
    (1, "conversation log, feedback, review queue, curated answers, staff accounts", _v1),
]
