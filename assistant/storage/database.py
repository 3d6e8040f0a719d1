"""The database: SQLite (WAL) under ``data/`` by default, PostgreSQL when ``POLICY_DATABASE_URL`` says so.

SQLAlchemy Core, not an ORM and not two hand-written drivers: one set of table definitions and
queries runs on both dialects (parameter styles, ``RETURNING``, upserts and types differ between
``sqlite3`` and ``psycopg``), with a connection pool that is safe across threads. The records are
plain rows, so the ORM's identity map and sessions would add nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import ConfigError, StorageError
from .schema import MIGRATIONS, schema_version

log = logging.getLogger("assistant.storage")


def utcnow() -> _dt.datetime:
    """Naive UTC (both dialects store it the same way)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def local_day(when: _dt.datetime | None = None) -> str:
    """The server's local date of a naive-UTC time, e.g. '2026-11-29' (what "per day" counts by)."""
    when = when or utcnow()
    return when.replace(tzinfo=_dt.timezone.utc).astimezone().date().isoformat()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, and the reverse
    cur.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable against a process crash, one fsync per checkpoint
    cur.execute("PRAGMA busy_timeout=10000")  # wait for a lock instead of failing at once
    cur.close()


class Database:
    """An engine plus the schema version; ``Database.open(url)`` migrates it to the current schema."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Database:
        """Connect to ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``) and apply pending migrations."""
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError:
            raise ConfigError(f"POLICY_DATABASE_URL={url!r} is not a database URL; use e.g. postgresql+psycopg://user@host/db") from None
        if parsed.get_backend_name() == "sqlite":
            db = cls(_sqlite_engine(parsed))
        elif parsed.get_backend_name() == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not the older psycopg2
            db = cls(sa.create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True))
        else:
            raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}; use sqlite:///PATH or postgresql+psycopg://…")
        if migrate:
            db.migrate()
        return db

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A connection in a transaction, committed on success; driver errors become ``StorageError``."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as ex:
            raise StorageError(f"the database is unavailable ({ex.orig}); check POLICY_DATABASE_URL and that the server runs") from ex

    def version(self) -> int:
        with self.begin() as conn:
            if not sa.inspect(conn).has_table(schema_version.name):
                return 0
            return int(conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0)

    def migrate(self) -> int:
        """Apply the migrations this database has not had, each in its own transaction; the new version."""
        current = self.version()
        for number, description, step in MIGRATIONS:
            if number <= current:
                continue
            with self.begin() as conn:
                if number == 1:
                    schema_version.create(conn, checkfirst=True)
                step(conn)
                conn.execute(sa.insert(schema_version).values(version=number, description=description, applied_at=utcnow()))
            log.info("database migrated to version %d: %s", number, description)
            current = number
        return current

    def upsert(self, table: sa.Table, values: dict[str, Any], keys: list[str], update: dict[str, Any]) -> Any:
        """``INSERT … ON CONFLICT (keys) DO UPDATE SET update`` in either dialect."""
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return insert(table).values(**values).on_conflict_do_update(index_elements=keys, set_=update)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=8, max_overflow=8)
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine
