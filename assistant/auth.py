"""Staff access: argon2id password hashes, expiring UI sessions and bearer tokens for the staff API.

Secrets (session ids, API tokens) are 256-bit random strings handed to the client once; the
database keeps only their SHA-256, so a copy of the database opens no door.

>>> staff = Staff(AccountStore(db), session_hours=12)          # doctest: +SKIP
>>> staff.add_user("admin", "a long passphrase", is_admin=True) # doctest: +SKIP
>>> token = staff.login("admin", "a long passphrase")           # doctest: +SKIP
>>> staff.session_user(token).is_admin                          # doctest: +SKIP
True
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import AccessError, ForbiddenError
from .storage import AccountStore, User, utcnow

MIN_PASSWORD_CHARS = 10
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
# argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name takes as long as a wrong password."""
    return _HASHER.hash("not a real password")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if not 2 <= len(name) <= 64 or not set(name) <= _NAME_CHARS:
        raise ValueError(f"user name {name!r} must be 2-64 letters, digits, '_', '.' or '-'")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"the password has {len(password)} characters; use at least {MIN_PASSWORD_CHARS}")
    return password


class Staff:
    """Accounts, sessions and tokens over an :class:`AccountStore`."""

    def __init__(self, store: AccountStore, *, session_hours: int = 12) -> None:
        self.store = store
        self.session_hours = session_hours

    def add_user(self, name: str, password: str, *, is_admin: bool = False) -> User:
        return self.store.add_user(check_name(name), _HASHER.hash(check_password(password)), is_admin=is_admin)

    def set_password(self, name: str, password: str) -> None:
        if not self.store.set_password(name, _HASHER.hash(check_password(password))):
            raise AccessError(f"no user named {name!r}; create it with `python -m assistant user add {name}`")

    def authenticate(self, name: str, password: str) -> User:
        """The user if the password matches, else ``AccessError`` (the same for an unknown name)."""
        found = self.store.credentials(name or "")
        try:
            _HASHER.verify(found[1] if found else _dummy_hash(), password or "")
        except (VerificationError, InvalidHashError):
            found = None
        if found is None or found[0].disabled:
            raise AccessError("wrong user name or password")
        user, stored = found
        if _HASHER.check_needs_rehash(stored):  # parameters were raised since the hash was made
            self.store.set_password(user.name, _HASHER.hash(password))
        return user

    def login(self, name: str, password: str) -> str:
        """A new session id for the staff UI."""
        user = self.authenticate(name, password)
        token = secrets.token_urlsafe(32)
        self.store.add_session(_digest(token), user.id, utcnow() + _dt.timedelta(hours=self.session_hours))
        return token

    def logout(self, token: str | None) -> None:
        if token:
            self.store.end_session(_digest(token))

    def session_user(self, token: str | None) -> User:
        user = self.store.session_user(_digest(token)) if token else None
        if user is None:
            raise AccessError("not logged in, or the session has expired; log in again")
        return user

    def issue_token(self, name: str, label: str = "staff API") -> str:
        """A new bearer token for ``name`` (shown once; only its hash is stored)."""
        found = self.store.credentials(name)
        if found is None:
            raise AccessError(f"no user named {name!r}; create it with `python -m assistant user add {name}`")
        token = "pa_" + secrets.token_urlsafe(32)
        self.store.add_token(_digest(token), found[0].id, label)
        return token

    def token_user(self, authorization: str | None, *, admin: bool = False) -> User:
        """The user behind an ``Authorization: Bearer …`` header: 401 without a valid token, 403 if not admin."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AccessError(
                "this endpoint needs a staff token: send 'Authorization: Bearer <token>' (python -m assistant user token NAME)"
            )
        user = self.store.token_user(_digest(token.strip()))
        if user is None:
            raise AccessError("the token is unknown or revoked; create a new one with `python -m assistant user token NAME`")
        if admin and not user.is_admin:
            raise ForbiddenError(f"user {user.name!r} is not an administrator; ask an administrator to do this")
        return user
