"""Secrets never reach the logs: a console run as `python -m console` with a sign-in, API
calls and model pulls, and a bot conversation with a contact form, then every log file is
searched for the password, the session token, CONSOLE_SECRET, MODEL_PULL_TOKEN and the email."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid

import pytest
import requests

from certbot.launch import free_port
from tests.console.conftest import login
from tests.integration.responses import is_response
from tests.servers import ROOT, Server

PASSWORD = "pw-" + secrets.token_urlsafe(16)
WRONG_PASSWORD = "wrong-pw-" + secrets.token_urlsafe(16)
CONSOLE_SECRET = "console-secret-" + secrets.token_urlsafe(24)
MODEL_PULL_TOKEN = "pull-token-" + secrets.token_urlsafe(24)
WRONG_TOKEN = "wrong-token-" + secrets.token_urlsafe(24)
EMAIL = f"secret-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture(scope="module")
def console_env(tmp_path_factory, bot) -> dict[str, str]:
    """The environment of a console reading the session bot's conversations."""
    tmp = tmp_path_factory.mktemp("secrets-console")
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {bot.db}\n")
    return {
        "CONSOLE_DB_URL": f"sqlite:///{tmp / 'console.db'}",
        "ENDPOINTS": str(endpoints),
        "CONSOLE_SECRET": CONSOLE_SECRET,
        "MODEL_PULL_TOKEN": MODEL_PULL_TOKEN,
        "MODEL_REGISTRY": str(tmp / "registry"),
        "CONSOLE_PORT": str(free_port()),
        "LOG": str(tmp / "console.log"),
    }


@pytest.fixture(scope="module")
def session_token(console_env, bot) -> str:
    """Use the console and the bot the way staff and a visitor do; the session token."""
    env = {**os.environ, **console_env}
    subprocess.run(
        [sys.executable, "-m", "console.users", "add", "dana", "--role", "admin",
         "--password-stdin"],
        input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    settings = [f"{name}={value}" for name, value in console_env.items()]
    console = Server(
        ["env", *settings, sys.executable, "-m", "console"],
        int(console_env["CONSOLE_PORT"]),
        ROOT / console_env["LOG"],
        "/health",
    )
    console.start()
    try:
        staff = requests.Session()
        assert login(staff, console.url, "dana", WRONG_PASSWORD).status_code == 401
        assert login(staff, console.url, "dana", PASSWORD).status_code == 303
        token = staff.cookies["console_session"]
        assert staff.get(console.url + "/api/conversations", timeout=30).status_code == 200
        pull = console.url + "/api/models/live"
        assert requests.get(pull, params={"token": WRONG_TOKEN}, timeout=30).status_code == 403
        assert requests.get(pull, params={"token": MODEL_PULL_TOKEN}, timeout=60).ok
        visitor = f"secrets-{uuid.uuid4().hex[:8]}"
        for text in ("hello", "I'd like to talk to a person", "Dana Visitor", EMAIL,
                     "how long does ISO 9001 take?", "/affirm"):  # fmt: skip
            replies = bot.say(visitor, text)
        assert is_response(
            replies[0], "utter_contact_submitted", contact_name="Dana Visitor", contact_email=EMAIL
        )
        contacts = staff.get(console.url + "/api/contacts", timeout=30).json()["contacts"]
        assert EMAIL in {contact["email"] for contact in contacts}
        staff.post(console.url + "/logout", data={"csrf_token": "wrong"}, timeout=30)
    finally:
        console.stop()
    return token


def test_no_secret_is_in_any_log(console_env, session_token, bot):
    logs = {
        "console": (ROOT / console_env["LOG"]).read_text(errors="replace"),
        "bot": bot.rasa.log.read_text(errors="replace"),
        "actions": bot.actions.log.read_text(errors="replace"),
    }
    assert logs["console"] and logs["bot"], "a server wrote no log at all"
    secrets_ = {
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "session token": session_token,
        "CONSOLE_SECRET": CONSOLE_SECRET,
        "MODEL_PULL_TOKEN": MODEL_PULL_TOKEN,
        "wrong pull token": WRONG_TOKEN,
        "visitor email": EMAIL,
    }
    for log_name, text in logs.items():
        for secret_name, secret in secrets_.items():
            assert secret not in text, f"{secret_name} in the {log_name} log"
