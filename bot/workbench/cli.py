"""`python -m bot workbench` and `python -m bot staff-user` (make workbench, make staff-user)."""

from __future__ import annotations

import argparse
import getpass
import sys


def add_commands(sub) -> None:
    p = sub.add_parser(
        "workbench", help="the staff workbench on 127.0.0.1:5007 (WORKBENCH_HOST, WORKBENCH_PORT)"
    )
    p.add_argument(
        "--host", default=None, help="default 127.0.0.1 (WORKBENCH_HOST); others expose patient text"
    )
    p.add_argument("--port", type=int, default=None, help="default 5007 (WORKBENCH_PORT)")
    p.add_argument(
        "--db", default=None, help="tracker store: SQLite file (default var/tracker.db) or a database URL"
    )
    p.add_argument("--endpoints", default=None, help="read the tracker store of this endpoints file instead")
    p.set_defaults(func=run_workbench)
    p = sub.add_parser(
        "staff-user", help="create or update a workbench account; the password is read from stdin"
    )
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=["editor", "clinician"])
    p.add_argument(
        "--registration", default="", help='a clinician\'s register and number, e.g. "GMC 1234567"'
    )
    p.add_argument("--disable", action="store_true", help="disable the account (its sessions end) instead")
    p.set_defaults(func=run_staff_user)


def run_workbench(args: argparse.Namespace) -> int:
    from bot.workbench.app import serve
    from bot.workbench.settings import from_environment

    try:
        settings = from_environment(args.host, args.port, args.db, args.endpoints)
    except (ValueError, OSError) as err:
        print(f"cannot start the workbench: {err}", file=sys.stderr)
        return 2
    return serve(settings)


def read_password(stream=None) -> str:
    """The first line of standard input (piped), or typed twice without echo (a terminal)."""
    stream = stream or sys.stdin
    if stream.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return stream.readline().rstrip("\r\n")


def run_staff_user(args: argparse.Namespace) -> int:
    from bot.workbench.accounts import AccountError, Accounts
    from bot.workbench.settings import from_environment

    settings = from_environment()
    accounts = Accounts(settings.accounts_db)
    if args.disable:
        done = accounts.disable(args.name)
        print(
            f"{args.name}: disabled" if done else f"{args.name}: no such account",
            file=sys.stderr if not done else None,
        )
        return 0 if done else 1
    try:
        password = read_password()
        staff, new = accounts.set_staff(args.name, args.role, password, args.registration)
    except (AccountError, ValueError) as err:
        print(f"not saved: {err}", file=sys.stderr)
        return 2
    print(
        f"{'created' if new else 'updated'} {staff.role} account '{staff.name}'"
        + (f" ({staff.registration})" if staff.registration else "")
        + f" in {settings.accounts_db}"
    )
    return 0
