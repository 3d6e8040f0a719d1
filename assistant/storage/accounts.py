"""Staff accounts, UI sessions and API tokens (hashes only; the secrets never reach the database)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import sqlalchemy as sa

from .database import Database, utcnow
from .schema import api_tokens, sessions, users


@dataclass(frozen=True)
class User:
    id: int
    name: str
    is_admin: bool
    disabled: bool = False


class AccountStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_user(self, name: str, password_hash: str, *, is_admin: bool) -> User:
        """A new account; ``ValueError`` if the name is taken."""
        try:
            with self.db.begin() as conn:
                row = {"name": name, "password_hash": password_hash, "is_admin": is_admin, "disabled": False, "created_at": utcnow()}
                uid = int(conn.execute(sa.insert(users).values(**row).returning(users.c.id)).scalar_one())
        except sa.exc.IntegrityError:
            raise ValueError(f"a user named {name!r} already exists; choose another name or set a new password") from None
        return User(uid, name, is_admin)

    def set_password(self, name: str, password_hash: str) -> bool:
        with self.db.begin() as conn:
            return bool(conn.execute(sa.update(users).where(users.c.name == name).values(password_hash=password_hash)).rowcount)

    def credentials(self, name: str) -> tuple[User, str] | None:
        """(user, password hash) for ``name``, or None."""
        with self.db.begin() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
        return (_user(row), row["password_hash"]) if row else None

    def list_users(self) -> list[User]:
        with self.db.begin() as conn:
            return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.id)).mappings()]

    def add_session(self, token_hash: str, user_id: int, expires_at: _dt.datetime) -> None:
        with self.db.begin() as conn:
            conn.execute(sa.insert(sessions).values(token_hash=token_hash, user_id=user_id, created_at=utcnow(), expires_at=expires_at))

    def session_user(self, token_hash: str) -> User | None:
        """The live session's user (not expired, account not disabled)."""
        q = (
            sa.select(users)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > utcnow(), users.c.disabled.is_(False))
        )
        with self.db.begin() as conn:
            row = conn.execute(q).mappings().first()
        return _user(row) if row else None

    def end_session(self, token_hash: str) -> None:
        with self.db.begin() as conn:
            conn.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash))
            conn.execute(sa.delete(sessions).where(sessions.c.expires_at <= utcnow()))  # tidy expired ones too

    def add_token(self, token_hash: str, user_id: int, label: str) -> None:
        with self.db.begin() as conn:
            row = {"token_hash": token_hash, "user_id": user_id, "label": label, "created_at": utcnow(), "revoked": False}
            conn.execute(sa.insert(api_tokens).values(**row))

    def token_user(self, token_hash: str) -> User | None:
        q = (
            sa.select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked.is_(False), users.c.disabled.is_(False))
        )
        with self.db.begin() as conn:
            row = conn.execute(q).mappings().first()
        return _user(row) if row else None

    def revoke_tokens(self, name: str) -> int:
        """Revoke every API token of ``name``; the number revoked."""
        ids = sa.select(users.c.id).where(users.c.name == name).scalar_subquery()
        with self.db.begin() as conn:
            q = sa.update(api_tokens).where(api_tokens.c.user_id == ids, api_tokens.c.revoked.is_(False)).values(revoked=True)
            return int(conn.execute(q).rowcount)

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Disable (or enable again) an account: its sessions and tokens stop working at once."""
        with self.db.begin() as conn:
            return bool(conn.execute(sa.update(users).where(users.c.name == name).values(disabled=disabled)).rowcount)


def _user(row: sa.RowMapping) -> User:
    return User(row["id"], row["name"], bool(row["is_admin"]), bool(row["disabled"]))
