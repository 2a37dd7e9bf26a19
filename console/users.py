"""`python -m console.users`: add, list, disable staff accounts and set passwords."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from console.accounts import AccountError, add_user, check_password, disable_user, set_password
from console.settings import Settings
from console.tables import ROLES, Database, User, audit

CLI = "cli"
PROMPT = "Password (12+ characters, hard to guess: a few uncommon words): "


def read_password(from_stdin: bool, username: str) -> str:
    """The new password for `username`: typed twice at a terminal, else one line of stdin.

    Stdin is read with `--password-stdin` or when it is not a terminal (a script, CI).
    """
    if from_stdin or not sys.stdin.isatty():
        return check_password(sys.stdin.readline().rstrip("\r\n"), username)
    password = check_password(getpass.getpass(PROMPT), username)
    if getpass.getpass("Again: ") != password:
        raise AccountError("the passwords differ")
    return password


def parser() -> argparse.ArgumentParser:
    """The command line: add, list, disable, set-password."""
    cli = argparse.ArgumentParser(prog="python -m console.users", description=__doc__)
    commands = cli.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    commands.add_parser("list", help="list the accounts")
    disable = commands.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    reset = commands.add_parser("set-password", help="set a new password, ending sessions")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    return cli


def run(args: argparse.Namespace, db: Database) -> str:
    """Carry out one command; the message to print."""
    with db.session() as session:
        if args.command == "list":
            users = session.scalars(select(User).order_by(User.username))
            return "\n".join(
                f"{u.username}\t{u.role}\t{'disabled' if u.disabled else 'active'}" for u in users
            )
        if args.command == "add":
            password = read_password(args.password_stdin, args.username)
            add_user(session, args.username, args.role, password)
        elif args.command == "disable":
            disable_user(session, args.username)
        else:
            set_password(session, args.username, read_password(args.password_stdin, args.username))
        audit(session, CLI, f"user {args.command}", args.username)
        return f"{args.command}: {args.username} done"


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit status 1 with a message on any refusal."""
    args = parser().parse_args(argv)
    try:
        print(run(args, Database(Settings.from_env().db_url)))
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
