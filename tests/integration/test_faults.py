"""Faults with real servers: the bot killed mid-conversation, its database unreachable, its
action server down, the SQLite file's disk full. Each time the visitor gets a clear answer
and the conversation goes on once the fault is gone, without restarting anything else."""

from __future__ import annotations

import contextlib
import errno
import json
import re
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.integration.responses import is_response
from tests.integration.services import (
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    TcpProxy,
    missing_services,
    postgres_database,
    postgres_stores,
    redis_prefix,
    start_all,
    stop_all,
    tracker_events,
)
from tests.servers import ALLOWED_ORIGIN, Bot, sqlite_store
from tests.widget.chat import ask, bot_bubbles, demo, open_chat

DISK_BYTES = 4 * 1024 * 1024
ANSWER_WHO = "are issued by independent certification bodies"


@contextlib.contextmanager
def small_disk(path: Path):
    """A 4 MB tmpfs at `path`; yields None and the reason if mounting is not permitted."""
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mount.returncode:
        yield None, f"cannot mount a tmpfs for the full-disk test: {mount.stderr.strip()}"
        return
    try:
        yield path, ""
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory):
    """A bot on SQLite (on a small disk where possible) and, where PostgreSQL and Redis
    answer, one on them, reached through a proxy that can cut it off its database."""
    disk_path = tmp_path_factory.mktemp("disk")
    missing = missing_services()
    with contextlib.ExitStack() as stack:
        disk, disk_problem = stack.enter_context(small_disk(disk_path))
        db = (disk or disk_path) / "conversations.db"
        on_sqlite = Bot(
            tmp_path_factory.mktemp("sqlite"), [ALLOWED_ORIGIN], stores=sqlite_store(db)
        )
        running = {"sqlite": on_sqlite}
        fixture = {"db": db, "disk": disk, "disk_problem": disk_problem, "missing": missing}
        if not missing:
            fixture["database"] = stack.enter_context(postgres_database())
            prefix = stack.enter_context(redis_prefix())
            fixture["proxy"] = proxy = TcpProxy(PG_PORT)
            fixture["redis_proxy"] = redis_proxy = TcpProxy(REDIS_PORT, REDIS_HOST)
            stack.callback(proxy.cut)
            stack.callback(redis_proxy.cut)
            stores = postgres_stores(
                fixture["database"], proxy.port, lock_prefix=prefix, redis_port=redis_proxy.port
            )
            running["postgresql"] = Bot(
                tmp_path_factory.mktemp("postgres"), [ALLOWED_ORIGIN], stores=stores
            )
        stack.callback(stop_all, list(running.values()))
        start_all([bot.actions for bot in running.values()])
        start_all([bot.rasa for bot in running.values()])
        yield {**fixture, **running}


def on_postgres(bots: dict) -> Bot:
    """The bot on PostgreSQL; skip, saying why, where the services are missing."""
    if bots["missing"]:
        pytest.skip(bots["missing"])
    return bots["postgresql"]


def new_visitor() -> str:
    return f"fault-{uuid.uuid4().hex[:12]}"


def start_contact_form(bot: Bot) -> str:
    """A visitor who asked for a person and is being asked their name."""
    visitor = new_visitor()
    replies = bot.say(visitor, "I'd like to talk to a person")
    assert is_response(replies[-1], "utter_ask_contact_name"), replies
    return visitor


def start_widget_contact_form(bot: Bot) -> str:
    """The same over the widget: the conversation id the bot issued."""
    visitor, replies = bot.widget_say("I'd like to talk to a person")
    assert is_response(replies[-1], "utter_ask_contact_name"), replies
    return visitor


def post(bot: Bot, visitor: str, text: str) -> requests.Response:
    """A message from the widget on an allowed site, in the conversation it was given."""
    return requests.post(
        bot.widget + "webhook",
        data=json.dumps({"sender": visitor, "message": text}),
        headers={"Origin": ALLOWED_ORIGIN},
        timeout=30,
    )


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert "temporarily unavailable" in response.json()["error"]
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_killed_mid_form_the_conversation_continues_after_restart(bots, store):
    bot = on_postgres(bots) if store == "postgresql" else bots["sqlite"]
    visitor = start_contact_form(bot)
    replies = bot.say(visitor, "Dana Scully")
    assert is_response(replies[0], "utter_ask_contact_email", contact_name="Dana Scully")
    bot.rasa.process.kill()
    bot.rasa.process.wait()
    bot.rasa.start()
    replies = bot.say(visitor, "dana@example.com")
    assert is_response(replies[0], "utter_ask_contact_question"), replies


def test_database_unreachable_gives_503_then_recovers_without_restart(bots):
    bot, proxy = on_postgres(bots), bots["proxy"]
    visitor, rest_visitor = start_widget_contact_form(bot), start_contact_form(bot)
    proxy.cut()
    try:
        assert_unavailable(post(bot, visitor, "Dana Scully"))
        assert_unavailable(post(bot, visitor, "Dana Scully"))
        rest = requests.post(
            bot.webhook, json={"sender": rest_visitor, "message": "Dana"}, timeout=30
        )
        assert rest.status_code == 503, rest.text
    finally:
        proxy.restore()
    response = post(bot, visitor, "Dana Scully")
    assert response.status_code == 200, response.text
    assert is_response(response.json()[0], "utter_ask_contact_email", contact_name="Dana Scully")
    events = tracker_events(bots["database"], visitor)
    said = [event["data"]["text"] for event in events if event["event"] == "user"]
    assert said == ["I'd like to talk to a person", "Dana Scully"]


def test_widget_goes_offline_while_the_database_is_unreachable_and_delivers_after(bots, browser):
    bot, proxy = on_postgres(bots), bots["proxy"]
    context = browser.new_context()
    try:
        page = demo(context.new_page(), bot)
        open_chat(page)
        proxy.cut()
        try:
            ask(page, "who issues certificates?")
            expect(page.get_by_role("status")).to_have_text("Connection lost. Reconnecting…")
            expect(page.locator(".row.me .status").last).to_contain_text("Waiting to send")
        finally:
            proxy.restore()
        expect(bot_bubbles(page).last).to_contain_text(ANSWER_WHO, timeout=60_000)
        expect(page.get_by_text("Connection lost")).to_be_hidden()
    finally:
        context.close()


def test_action_server_down_gets_a_polite_reply(bots):
    bot = on_postgres(bots)
    visitor = start_contact_form(bot)
    bot.actions.stop()
    try:
        replies = bot.say(visitor, "Dana Scully")
        assert is_response(replies[0], "utter_technical_problem"), replies
        assert is_response(replies[-1], "utter_ask_contact_name"), replies
        replies = bot.say(new_visitor(), "who issues certificates?")
        assert [is_response(r, "utter_technical_problem") for r in replies].count(True) == 1
        log = bot.rasa.log.read_text(errors="replace")
        assert re.search(r"custom action \w+ failed \(.+\): replying utter_technical_problem", log)
    finally:
        bot.actions.start()
    replies = bot.say(visitor, "Dana Scully")
    assert is_response(replies[0], "utter_ask_contact_email", contact_name="Dana Scully")


def fill(disk: Path) -> Path:
    """Write a file until the disk is full."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_full_disk_gives_503_keeps_the_database_intact_and_recovers(bots):
    if bots["disk"] is None:
        pytest.skip(bots["disk_problem"])
    bot = bots["sqlite"]
    visitor = start_widget_contact_form(bot)
    filler = fill(bots["disk"])
    try:
        assert_unavailable(post(bot, visitor, "Dana Scully"))
    finally:
        filler.unlink()
    with contextlib.closing(sqlite3.connect(bots["db"])) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    response = post(bot, visitor, "Dana Scully")
    assert response.status_code == 200, response.text
    assert is_response(response.json()[0], "utter_ask_contact_email", contact_name="Dana Scully")


FAULTS = ["full disk", "database cut off", "lock store cut off"]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failed_message_leaves_no_visitor_text_in_the_logs(bots, fault):
    if fault == "full disk" and bots["disk"] is None:
        pytest.skip(bots["disk_problem"])
    bot = bots["sqlite"] if fault == "full disk" else on_postgres(bots)
    visitor, rest_visitor = start_widget_contact_form(bot), start_contact_form(bot)
    email = f"leak-{uuid.uuid4().hex[:10]}@example.com"
    with contextlib.ExitStack() as fault_lasting:
        if fault == "full disk":
            fault_lasting.callback(fill(bots["disk"]).unlink)
        else:
            proxy = bots["proxy" if fault == "database cut off" else "redis_proxy"]
            proxy.cut()
            fault_lasting.callback(proxy.restore)
        assert_unavailable(post(bot, visitor, email))
        rest = requests.post(
            bot.webhook, json={"sender": rest_visitor, "message": email}, timeout=30
        )
        assert rest.status_code == 503, rest.text
    logs = bot.rasa.log.read_text(errors="replace") + bot.actions.log.read_text(errors="replace")
    assert email.split("@")[0] not in logs
    # The failure is logged, without the text.
    assert re.search(r"(The tracker store|A visitor message) failed", logs), logs[-2000:]
