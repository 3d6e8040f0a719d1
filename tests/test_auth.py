"""Staff accounts: argon2id hashes, sessions, bearer tokens (401 without, 403 when not allowed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.auth import Staff
from assistant.errors import AccessError, ForbiddenError
from assistant.storage import AccountStore, Database
from assistant.storage.schema import api_tokens, sessions, users

PASSWORD = "correct horse battery"


@pytest.fixture()
def staff(tmp_path: Path) -> Iterator[Staff]:
    db = Database.open(f"sqlite:///{tmp_path / 'policy.db'}")
    yield Staff(AccountStore(db), session_hours=1)
    db.dispose()


def test_passwords_are_stored_as_argon2id_hashes(staff: Staff) -> None:
    staff.add_user("alice", PASSWORD, is_admin=True)
    with staff.store.db.begin() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert staff.authenticate("alice", PASSWORD).is_admin


@pytest.mark.parametrize(("name", "password"), [("alice", "wrong password!"), ("nobody", PASSWORD), ("", "")])
def test_wrong_name_or_password_is_refused_alike(staff: Staff, name: str, password: str) -> None:
    staff.add_user("alice", PASSWORD)
    with pytest.raises(AccessError, match="wrong user name or password"):
        staff.login(name, password)


def test_short_passwords_and_odd_names_are_refused(staff: Staff) -> None:
    with pytest.raises(ValueError, match="at least 10"):
        staff.add_user("alice", "short")
    with pytest.raises(ValueError, match="letters, digits"):
        staff.add_user("a b", PASSWORD)


def test_session_lives_until_logout_and_only_its_hash_is_stored(staff: Staff) -> None:
    staff.add_user("alice", PASSWORD)
    token = staff.login("alice", PASSWORD)
    assert staff.session_user(token).name == "alice"
    with staff.store.db.begin() as conn:
        assert token not in conn.execute(sa.select(sessions.c.token_hash)).scalars().all()
    staff.logout(token)
    with pytest.raises(AccessError, match="log in again"):
        staff.session_user(token)


def test_bearer_tokens_401_without_and_403_for_admin_routes(staff: Staff) -> None:
    staff.add_user("admin", PASSWORD, is_admin=True)
    staff.add_user("clerk", PASSWORD)
    admin, clerk = staff.issue_token("admin"), staff.issue_token("clerk")
    assert staff.token_user(f"Bearer {admin}", admin=True).name == "admin"
    assert staff.token_user(f"Bearer {clerk}").name == "clerk"
    with pytest.raises(ForbiddenError):
        staff.token_user(f"Bearer {clerk}", admin=True)
    for header in (None, "", "Basic abc", "Bearer ", f"Bearer {admin}x"):
        with pytest.raises(AccessError) as info:
            staff.token_user(header)
        assert not isinstance(info.value, ForbiddenError)
    with staff.store.db.begin() as conn:
        conn.execute(sa.update(api_tokens).values(revoked=True))
    with pytest.raises(AccessError, match="revoked"):
        staff.token_user(f"Bearer {admin}")


def test_revoking_tokens_and_disabling_an_account_from_the_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import ROOT

    url = f"sqlite:///{tmp_path / 'policy.db'}"
    env = {"PATH": "/usr/bin:/bin", "POLICY_DATABASE_URL": url, "POLICY_DATA_DIR": str(tmp_path)}

    def user(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "assistant", "user", *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)

    assert user("add", "clerk", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    db = Database.open(url)
    staff = Staff(AccountStore(db), session_hours=1)
    token = user("token", "clerk").stdout.strip()
    session = staff.login("clerk", PASSWORD)
    assert staff.token_user(f"Bearer {token}").name == "clerk"
    revoked = user("revoke", "clerk")
    assert revoked.returncode == 0 and "revoked 1 token" in revoked.stdout
    with pytest.raises(AccessError):
        staff.token_user(f"Bearer {token}")
    assert staff.session_user(session).name == "clerk"  # revoking tokens leaves the UI session
    assert user("disable", "clerk").returncode == 0 and "disabled" in user("list").stdout
    with pytest.raises(AccessError):
        staff.session_user(session)
    assert user("enable", "clerk").returncode == 0 and staff.session_user(session).name == "clerk"
    missing = user("revoke", "nobody")
    assert missing.returncode == 2 and "no user named 'nobody'" in missing.stderr
    db.dispose()
