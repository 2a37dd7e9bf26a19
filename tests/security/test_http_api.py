"""What the real bot serves: the channels and `/`, never Rasa's HTTP API; request size caps."""

from __future__ import annotations

import json
import re
import socket

import pytest
import requests
from rasa.server import create_app
from sanic import Sanic

from certbot.serve import MAX_REQUEST_BYTES

CHANNEL_PREFIXES = ("webhooks/rest/", "webhooks/widget/", "webhooks/socketio/")


def rasa_api_routes() -> list[tuple[str, str]]:
    """(method, concrete path) of every route of Rasa's HTTP API (`rasa run --enable-api`)."""
    Sanic.test_mode = True  # another app may be named like Rasa's in this process
    app = create_app()
    routes = []
    for route in app.router.routes:
        path = "/" + re.sub(r"<[^>]+>", "x", route.path)
        if path != "/":
            routes.extend((method, path) for method in sorted(route.methods))
    return routes


API_ROUTES = rasa_api_routes()


def test_the_api_has_the_dangerous_routes():
    paths = {path for _, path in API_ROUTES}
    assert {"/model", "/model/parse", "/status", "/conversations/x/tracker"} <= paths
    assert ("PUT", "/model") in API_ROUTES  # remote model loading (CVE-2024-49375)


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_no_rasa_api_route_is_served(bot, method, path):
    reply = requests.request(method, bot.rasa.url + path, json={}, timeout=30)
    assert reply.status_code in (404, 405), (method, path, reply.status_code)
    assert reply.headers["Content-Type"].startswith("application/json")
    assert "Rasa" not in reply.text


def test_only_the_root_and_the_channels_answer(bot):
    assert requests.get(bot.rasa.url + "/", timeout=10).status_code == 200
    for prefix in CHANNEL_PREFIXES:
        health = requests.get(f"{bot.rasa.url}/{prefix}", timeout=10)
        assert health.json() == {"status": "ok"}, prefix
    unknown = requests.get(bot.rasa.url + "/webhooks/unknown/webhook", timeout=10)
    assert unknown.status_code == 404
    assert unknown.json()


def raw_request(bot, head: str, body: bytes = b"") -> bytes:
    """Send a request by hand; return what the server answers before the rest of the body."""
    with socket.create_connection(("127.0.0.1", bot.rasa.port), timeout=30) as connection:
        connection.sendall(head.encode() + b"\r\n\r\n" + body)
        return connection.recv(65536)


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/webhooks/widget/webhook"])
def test_an_oversized_body_is_refused_before_it_is_sent(bot, path):
    answer = raw_request(
        bot,
        f"POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_REQUEST_BYTES + 1}",
        b'{"sender": "big", "message": "',
    )
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line, answer[:200]
    assert json.loads(rest.partition(b"\r\n\r\n")[2])


def test_a_body_under_the_server_cap_still_gets_the_channel_limit(bot):
    reply = requests.post(
        bot.webhook, data=b" " * (MAX_REQUEST_BYTES // 2), timeout=30,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert reply.status_code == 413
    assert "bytes" in reply.json()["error"]


def test_socketio_messages_are_capped(bot):
    handshake = requests.get(bot.rasa.url + "/socket.io/?EIO=4&transport=polling", timeout=10)
    opened = json.loads(handshake.text[1:])
    assert opened["maxPayload"] <= MAX_REQUEST_BYTES
    session = f"{bot.rasa.url}/socket.io/?EIO=4&transport=polling&sid={opened['sid']}"
    reply = requests.post(session, data=b"4" + b"x" * MAX_REQUEST_BYTES, timeout=30)
    assert reply.status_code == 413
    requests.post(session, data=b"1", timeout=30)  # engine.io "close"
