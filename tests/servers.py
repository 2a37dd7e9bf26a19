"""Real servers for the tests: the action server and the bot, started by the project's
launcher (certbot/launch.py) on free ports, with a SQLite tracker store in a temporary
folder."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import yaml

from certbot import launch
from certbot.launch import free_port

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "certbot.tar.gz"
STARTUP_SECONDS = 240
ALLOWED_ORIGIN = "http://allowed.example"
TRACKER_STORE = "certbot.stores.tracker_store.CachedSQLTrackerStore"


def sqlite_store(db: Path) -> str:
    """The endpoints section of a SQLite tracker store in file `db`."""
    return f"tracker_store:\n  type: {TRACKER_STORE}\n  dialect: sqlite\n  db: {db}\n"


class Server:
    """A child process serving HTTP on a port, logging to a file."""

    def __init__(self, args: list[str], port: int, log: Path, ready_path: str) -> None:
        self.args, self.port, self.log, self.ready_path = args, port, log, ready_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.args[:3]} exited; see {self.log}")
            try:
                requests.get(self.url + self.ready_path, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.5)
        raise RuntimeError(f"{self.args[:3]} not ready after {STARTUP_SECONDS}s; see {self.log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Bot:
    """The bot and its action server, talked to over the REST channel."""

    def __init__(
        self,
        workdir: Path,
        allowed_origins: list[str],
        *,
        model: Path = MODEL,
        stores: str | None = None,
        extra_endpoints: str = "",
        actions: Server | None = None,
    ) -> None:
        """`stores` replaces the SQLite tracker store section of the endpoints file;
        `extra_endpoints` (YAML) is appended to it (lock store, model server, ...);
        `actions` is another bot's action server to share instead of a new one."""
        actions_port = actions.port if actions else free_port()
        bot_port = free_port()
        self.db = workdir / "conversations.db"
        if stores is None:
            stores = sqlite_store(self.db)
        sections = yaml.safe_load(stores + extra_endpoints)
        config = launch.endpoints(f"http://127.0.0.1:{actions_port}/webhook")
        config.pop("tracker_store")
        self.endpoints = launch.write_yaml(workdir / "endpoints.yml", {**config, **sections})
        # Every client of the tests comes from 127.0.0.1.
        channels = launch.credentials(allowed_origins=allowed_origins, max_messages_per_ip=100_000)
        credentials = launch.write_yaml(workdir / "credentials.yml", channels)
        self.actions = actions or Server(
            launch.actions_command(actions_port), actions_port, workdir / "actions.log", "/health"
        )
        self.rasa = Server(
            launch.bot_command(bot_port, self.endpoints, credentials, model),
            bot_port,
            workdir / "rasa.log",
            "/",
        )

    @property
    def webhook(self) -> str:
        return self.rasa.url + "/webhooks/rest/webhook"

    @property
    def widget(self) -> str:
        """Base URL of the widget channel."""
        return self.rasa.url + "/webhooks/widget/"

    def say(self, sender: str, text: str) -> list[dict]:
        """Send a visitor message; return the bot's replies."""
        # Generous: a bot loading a newly pulled model holds messages meanwhile.
        response = requests.post(self.webhook, json={"sender": sender, "message": text}, timeout=90)
        assert response.status_code == 200, response.text
        return response.json()

    def stored_texts(self, sender: str) -> list[str]:
        """The visitor's messages of a conversation, as the bot's SQLite store holds them."""
        with sqlite3.connect(self.db) as conn:
            rows = conn.execute(
                "select data from events where sender_id = ? and type_name = 'user' order by id",
                (sender,),
            ).fetchall()
        return [json.loads(data)["text"] for (data,) in rows]

    def widget_say(
        self, text: str, conversation: str | None = None, metadata: dict | None = None
    ) -> tuple[str, list[dict]]:
        """Send a message as the widget does on an allowed site: without a conversation id to
        start one, else the id the bot issued. Return the conversation id and the replies."""
        payload = {"message": text, "metadata": metadata or {}}
        if conversation:
            payload["sender"] = conversation
        response = requests.post(
            self.widget + "webhook",
            data=json.dumps(payload),
            headers={"Origin": ALLOWED_ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
            timeout=90,
        )
        assert response.status_code == 200, response.text
        return response.headers["X-Conversation-Id"], response.json()


class HostSite:
    """A stand-in for the company's website on another origin: pages the tests write,
    served with the headers (e.g. a Content-Security-Policy) each page asks for."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, dict[str, str]]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                html, headers = site.pages.get(self.path, ("not found", {}))
                body = html.encode()
                self.send_response(200 if self.path in site.pages else 404)
                headers = {"Content-Type": "text/html; charset=utf-8", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, path: str, html: str, **headers: str) -> str:
        """Publish a page (HTML unless a `Content-Type` header says otherwise); its URL."""
        self.pages[path] = (html, headers)
        return self.origin + path

    def stop(self) -> None:
        self.server.shutdown()
