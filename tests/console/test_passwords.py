"""Weak and common passwords are refused wherever a password is set: `python -m console.users`
add and set-password as staff run them, and the accounts functions every caller goes through.
Accounts that pass then sign in to a served console."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from console.accounts import AccountError, add_user, set_password
from console.tables import Database
from tests.console.conftest import login, make_console
from tests.servers import ROOT

STRONG = "tangerine oxbow quietly 57"
# (password, what zxcvbn's feedback in the refusal says)
WEAK = [
    ("aaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess.'),
    ("Password1234!", "This is similar to a commonly used password."),
    ("iloveyouiloveyou", "Repeats like"),  # dictionary words
    ("qwerty123456", "This is a very common password."),
    ("certbot-dana", "Add another word or two."),  # product name + username
]


def users_cli(
    db_url: str, *args: str, password: str | None = None, flag: bool = True
) -> subprocess.CompletedProcess:
    """Run `python -m console.users ...` as staff do, the password on stdin if given.

    `--password-stdin` is passed unless `flag` is false (stdin is a pipe either way).
    """
    env = {
        **os.environ,
        "CONSOLE_DB_URL": db_url,
        "CONSOLE_SECRET": "test-secret-" + uuid.uuid4().hex,
        "MODEL_PULL_TOKEN": "test-token-" + uuid.uuid4().hex,
    }
    return subprocess.run(
        [sys.executable, "-m", "console.users", *args]
        + (["--password-stdin"] if password is not None and flag else []),
        input=(password or "") + "\n",
        text=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """A console of its own on an empty tracker store (no bot needed to sign in)."""
    tmp = tmp_path_factory.mktemp("passwords")
    running = make_console(tmp, SimpleNamespace(db=tmp / "tracker.db"), "passwords")
    yield running
    running.served.stop()


def test_cli_add_refuses_weak_passwords_and_takes_a_strong_one(console):
    for password, feedback in WEAK:
        result = users_cli(
            console.settings.db_url, "add", "dana", "--role", "admin", password=password
        )
        assert result.returncode == 1, password
        assert "the password is too easy to guess" in result.stderr, result.stderr
        assert feedback in result.stderr, (password, result.stderr)
    assert "dana" not in users_cli(console.settings.db_url, "list").stdout
    result = users_cli(console.settings.db_url, "add", "dana", "--role", "admin", password=STRONG)
    assert result.returncode == 0, result.stderr
    assert login(requests.Session(), console.url, "dana", STRONG).status_code == 303


def test_cli_set_password_refuses_weak_passwords(console):
    db_url = console.settings.db_url
    assert users_cli(db_url, "add", "erin", "--role", "viewer", password=STRONG).returncode == 0
    for password, feedback in [("eeeeeeeeeeee", 'Repeats like "aaa"'), *WEAK[1:4]]:
        result = users_cli(db_url, "set-password", "erin", password=password)
        assert result.returncode == 1, password
        assert feedback in result.stderr, (password, result.stderr)
    assert login(requests.Session(), console.url, "erin", STRONG).status_code == 303  # unchanged
    newer = "walrus lantern origami 93"
    assert users_cli(db_url, "set-password", "erin", password=newer).returncode == 0
    assert login(requests.Session(), console.url, "erin", newer).status_code == 303


def test_accounts_functions_refuse_weak_passwords(tmp_path: Path):
    """What any console route setting a password would call (there is none today)."""
    db = Database(f"sqlite:///{tmp_path / 'console.db'}")
    with db.session() as session:
        for password, feedback in WEAK:
            with pytest.raises(AccountError, match="too easy to guess") as refused:
                add_user(session, "dana", "admin", password)
            assert feedback in str(refused.value)
        add_user(session, "dana", "admin", STRONG)
    with db.session() as session:
        for password in ("zzzzzzzzzzzz", "Password1234!", "Certbot2024!"):
            with pytest.raises(AccountError, match="too easy to guess"):
                set_password(session, "dana", password)
        set_password(session, "dana", "walrus lantern origami 93")


def test_without_a_terminal_the_password_is_read_from_stdin(console):
    db_url = console.settings.db_url
    result = users_cli(db_url, "add", "fern", "--role", "viewer", password=STRONG, flag=False)
    assert result.returncode == 0, result.stderr
    assert "termios" not in result.stderr
    assert login(requests.Session(), console.url, "fern", STRONG).status_code == 303
    empty = users_cli(db_url, "add", "gail", "--role", "viewer", password="", flag=False)
    assert empty.returncode == 1 and empty.stderr.startswith("error: "), empty.stderr
    assert "gail" not in users_cli(db_url, "list").stdout
