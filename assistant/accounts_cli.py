"""``python -m assistant user {add,password,token,list}``: staff accounts from the command line.

The password is read from the terminal without echo, or from standard input with
``--password-stdin`` (for scripts: ``printf '%s\\n' "$PW" | python -m assistant user add admin --admin --password-stdin``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from .errors import AssistantError
from .settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    u = sub.add_parser("user", help="staff accounts: add, password, token, list")
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
    usub.add_parser("list", help="list accounts")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise AssistantError("the two passwords differ; run the command again")
    return first


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
