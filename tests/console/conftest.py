"""A real bot filled with real conversations, and consoles served on free ports."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from certbot.launch import free_port
from certbot.stores.tracker_store import CachedSQLTrackerStore
from console.accounts import add_user
from console.app import create_app
from console.settings import Settings
from tests.integration.responses import is_response
from tests.servers import ROOT

# Sanic's way to serve several apps in one process (each test module starts its own).
Sanic.test_mode = True
PASSWORD = "correct horse battery staple"
ROLES = ("viewer", "reviewer", "admin")
DID_YOU_MEAN = ("certification", "iso", "certificate", "standard", "audit")
HTML_MESSAGE = '<img src=x onerror="alert(1)"> <b>bold?</b>'


def new_id(kind: str) -> str:
    return f"console-{kind}-{uuid.uuid4().hex[:10]}"


def rate_down(bot, text: str) -> str:
    """A widget visitor asks `text` and rates the answer down; the conversation's id."""
    conversation, rated = bot.widget_say(text)
    feedback = {"feedback_for": rated[-1]["text"]}
    bot.widget_say('/feedback{"rating": "down"}', conversation, metadata=feedback)
    return conversation


@pytest.fixture(scope="session")
def conversations(bot) -> dict[str, str]:
    """One conversation of each kind the console must recognise; their ids by kind.

    The rated one is a widget conversation, its id issued by the bot; the others are REST.
    """
    ids = {kind: new_id(kind) for kind in ("faq", "decline", "dym", "contact", "html")}
    [answer] = bot.say(ids["faq"], "who issues ISO 9001 certificates?")[1:]
    assert is_response(answer, "utter_faq/who_certifies", standard="ISO 9001")
    assert is_response(
        bot.say(ids["decline"], "what's the weather like in Paris tomorrow")[-1],
        "utter_out_of_scope",
    )
    bot.say(ids["dym"], "hello")
    assert any(  # the spec's example first; the model may since answer it outright
        is_response(bot.say(ids["dym"], text)[0], "utter_did_you_mean") for text in DID_YOU_MEAN
    ), "no candidate text led to 'did you mean'"
    ids["down"] = rate_down(bot, "who issues ISO certificates?")
    for text in (
        "hello",
        "I'd like to talk to a person",
        "Ana Pereira",
        "ana@example.com",
        '=HYPERLINK("http://x") how long would ISO 9001 take?',
        "/affirm",
    ):
        replies = bot.say(ids["contact"], text)
    assert is_response(
        replies[0],
        "utter_contact_submitted",
        contact_name="Ana Pereira",
        contact_email="ana@example.com",
    )
    bot.say(ids["html"], HTML_MESSAGE)
    return ids


class Served:
    """A console app from create_app(...) served on a free port in a background thread."""

    def __init__(self, app) -> None:
        self.app, self.port = app, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        started = threading.Event()
        threading.Thread(target=self._serve, args=(started,), daemon=True).start()
        assert started.wait(30) and self.error is None, f"console did not start: {self.error!r}"

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            server = self.loop.run_until_complete(
                self.app.create_server(
                    host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
                )
            )
            self.loop.run_until_complete(server.startup())
            self.loop.run_until_complete(server.after_start())
        except BaseException as error:  # reported by __init__
            self.error = error
        started.set()
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


@dataclass
class Console:
    """A served console with one account per role."""

    served: Served
    settings: Settings

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def app(self):
        return self.served.app

    def session(self, role: str) -> requests.Session:
        """A signed-in HTTP session; its CSRF token in session.csrf."""
        session = requests.Session()
        login(session, self.url, role, PASSWORD)
        page = session.get(self.url + "/")
        assert page.status_code == 200, page.text
        session.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        return session


def copy_inputs(into: Path, names: Iterable[str]) -> Path:
    """The checkout's files and folders `names` copied into `into` (the checkout untouched)."""
    for name in names:
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copyfile
        copy(ROOT / name, into / name)
    return into


def login_csrf(session: requests.Session, url: str) -> str:
    form = session.get(url + "/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)


def login(session: requests.Session, url: str, username: str, password: str) -> requests.Response:
    token = login_csrf(session, url)
    return session.post(
        url + "/login",
        data={"csrf_token": token, "username": username, "password": password},
        allow_redirects=False,
    )


def make_console(tmp: Path, bot, name: str, **overrides) -> Console:
    """A console reading the SQLite store of `bot` (the bot or an EventStore: its `db`)."""
    tmp.mkdir(parents=True, exist_ok=True)
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {bot.db}\n")
    settings = Settings(
        db_url=f"sqlite:///{tmp / 'console.db'}",
        endpoints=endpoints,
        domain=ROOT / "domain.yml",
        secret="test-secret-" + uuid.uuid4().hex,
        **overrides,
    )
    app = create_app(settings, name=f"console_{name}_{uuid.uuid4().hex[:6]}")
    with app.ctx.services.db.session() as session:
        for role in ROLES:
            add_user(session, role, role, PASSWORD)
    return Console(Served(app), settings)


@pytest.fixture(scope="module")
def console(tmp_path_factory, bot, conversations, request):
    """One console per test module, reading the bot's tracker store."""
    running = make_console(
        tmp_path_factory.mktemp("console"), bot, request.module.__name__.split(".")[-1]
    )
    yield running
    running.served.stop()


class EventStore:
    """The bot's tracker store on a SQLite file of its own, written directly: conversations
    made of chosen events, without a bot. `make_console(tmp, store, name)` reads it."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.domain = Domain.load(str(ROOT / "domain.yml"))
        self.store = CachedSQLTrackerStore(self.domain, dialect="sqlite", db=str(db))
        # One thread of its own: the store's SQLite connection, and no event loop clash
        # with a sync Playwright that marks this thread's loop as running.
        self.pool = ThreadPoolExecutor(1)

    def save(self, sender: str, events: list[Event]) -> None:
        """Store a conversation of these events, as the bot stores its trackers."""
        tracker = DialogueStateTracker.from_events(sender, events, self.domain.slots)
        self.pool.submit(asyncio.run, self.store.save(tracker)).result()

    def read_back(self, sender: str) -> list[dict]:
        """The conversation as Rasa reads it back (its events as dicts)."""
        tracker = self.pool.submit(asyncio.run, self.store.retrieve_full_tracker(sender)).result()
        return [event.as_dict() for event in tracker.events] if tracker else []

    def forget(self, sender: str) -> None:
        """Delete whatever is stored of the conversation."""
        self.pool.submit(self._forget, sender).result()

    def _forget(self, sender: str) -> None:
        event = self.store.SQLEvent
        with self.store.session_scope() as session:
            session.query(event).filter(event.sender_id == sender).delete()
            session.commit()
