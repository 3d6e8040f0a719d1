"""``python -m assistant user {add,password,token,revoke,disable,enable,list}``: staff accounts from the command line.

The password is read from the terminal without echo, or from standard input with
``--password-stdin`` (for scripts: ``printf '%s\\n' "$PW" | python -m assistant user add admin --admin --password-stdin``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from .errors import AssistantError
from .settings import Settings

if TYPE_CHECKING:
    from .storage import AccountStore


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    u = sub.add_parser("user", help="staff accounts: add, password, token, revoke, disable, enable, list")
    usub = u.add_subparsers(dest="action", required=True)
    add = usub.add_parser("add", help="create a staff account (the first should be --admin)")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="may manage accounts and apply the retention period")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    pw = usub.add_parser("password", help="set a new password")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true")
    tok = usub.add_parser("token", help="print a new bearer token for the staff API (shown once)")
    tok.add_argument("name")
    tok.add_argument("--label", default="staff API")
    for action, what in (
        ("revoke", "revoke every API token of an account (a leaked token stops working at once)"),
        ("disable", "disable an account: its logins, sessions and tokens stop working"),
        ("enable", "enable a disabled account again"),
    ):
        usub.add_parser(action, help=what).add_argument("name")
    usub.add_parser("list", help="list accounts")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise AssistantError("the two passwords differ; run the command again")
    return first


def _change(store: AccountStore, action: str, name: str) -> int:
    if not any(u.name == name for u in store.list_users()):
        raise AssistantError(f"no user named {name!r}; `python -m assistant user list` shows them")
    if action == "revoke":
        print(f"revoked {store.revoke_tokens(name)} token(s) of {name!r}")
    else:
        store.set_disabled(name, action == "disable")
        print(f"{name!r} {'disabled' if action == 'disable' else 'enabled'}")
    return 0


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    from .auth import Staff
    from .storage import AccountStore, Database

    db = Database.open(settings.database)
    try:
        staff = Staff(AccountStore(db), session_hours=settings.session_hours)
        if args.action == "list":
            for u in staff.store.list_users():
                print("\t".join([u.name, "admin" if u.is_admin else "staff"] + (["disabled"] if u.disabled else [])))
            return 0
        if args.action == "token":
            print(staff.issue_token(args.name, args.label))
            return 0
        if args.action in ("revoke", "disable", "enable"):
            return _change(staff.store, args.action, args.name)
        try:
            if args.action == "add":
                user = staff.add_user(args.name, _password(args), is_admin=args.admin)
                print(f"created {'administrator' if user.is_admin else 'staff user'} {user.name!r}; log in at /staff")
            else:
                staff.set_password(args.name, _password(args))
                print(f"password of {args.name!r} changed")
        except ValueError as ex:
            raise AssistantError(str(ex)) from None
        return 0
    finally:
        db.dispose()
