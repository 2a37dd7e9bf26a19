"""Every route of the bot's Sanic app, with every spelling of its path and every method:
never a server error, and a webhook never accepts what its checks refuse.

The routes come from the app `rasa run` builds from credentials.yml (in a child process, so
that this one keeps Rasa unpatched); requests go to the session's real bot, byte for byte
as written here (http.client sends a path as given)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import uuid

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from certbot.channels.rest import RequestRejected, parse_webhook_body
from tests.security.strategies import FUZZ, JSON_VALUES, ODD_TEXT
from tests.servers import ALLOWED_ORIGIN, ROOT

LIST_ROUTES = """
import json
from rasa.core.run import configure_app, create_http_input_channels
app = configure_app(create_http_input_channels(None, "credentials.yml"), enable_api=False)
print(json.dumps(sorted([["/" + r.path, sorted(r.methods)] for r in app.router.routes])))
"""
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO"]
WEBHOOK_LIMITS = {"/webhooks/rest/webhook": 10_000, "/webhooks/widget/webhook": 2_000}
FOREIGN_ORIGIN = "https://evil.example"


def bot_routes() -> list[tuple[str, list[str]]]:
    """(path, methods) of every route of the bot's app, as `rasa run` builds it."""
    listed = subprocess.run(
        [sys.executable, "-c", LIST_ROUTES], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [(path, methods) for path, methods in json.loads(listed.stdout.splitlines()[-1])]


ROUTES = bot_routes()


def spellings(path: str) -> list[str]:
    """Ways to write `path` that a server or proxy may take for the same route."""
    bare = path.rstrip("/")
    encoded_last = f"{bare[:-1]}%{ord(bare[-1]):02X}" if bare else "/%2E"
    return [
        path,
        bare + "/",
        bare or "/",
        "/" + path,
        path.replace("/", "//"),
        path.upper(),
        path + "?stream=true&sender=x",
        encoded_last,
        "/" + path[1:].replace("/", "%2F"),
        bare + "/.",
        bare + "/x/..",
        path + "%20",
        path + ";x",
        path + "#top",
    ]


def send(bot, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, bytes]:
    """Send a request exactly as written; return the status and the body."""
    connection = http.client.HTTPConnection("127.0.0.1", bot.rasa.port, timeout=60)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def test_the_app_has_the_channels_routes():
    paths = {path for path, _ in ROUTES}
    assert set(WEBHOOK_LIMITS) <= paths
    assert {"/", "/webhooks/widget/widget.js", "/socket.io"} & paths


@pytest.mark.parametrize(("path", "methods"), ROUTES, ids=[path for path, _ in ROUTES])
def test_no_spelling_or_method_fails(bot, path, methods):
    for spelled in spellings(path):
        for method in METHODS:
            status, body = send(bot, method, spelled, b"{}", Origin=FOREIGN_ORIGIN)
            assert status < 500, (method, spelled, status, body[:200])


@pytest.mark.parametrize("path", sorted(WEBHOOK_LIMITS))
def test_no_spelling_of_a_webhook_skips_its_checks(bot, path):
    limit = WEBHOOK_LIMITS[path]
    # A REST client names its conversation; the widget starts one without naming it.
    sender = {} if "widget" in path else {"sender": "s"}
    refused = {
        "too long": (json.dumps({**sender, "message": "x" * (limit + 1)}), {}),
        "bad metadata": (
            json.dumps({**sender, "message": "hi", "metadata": {"feedback_for": {"a": 1}}}),
            {},
        ),
        "forged entity": (
            json.dumps({**sender, "message": '/greet{"standard": "[x](https://e.vil)"}'}),
            {},
        ),
    }
    if "widget" in path:
        refused["own id"] = (json.dumps({"sender": "s", "message": "hello"}), {})
        refused["foreign origin"] = (json.dumps({"message": "hello"}), {"Origin": FOREIGN_ORIGIN})
    else:
        refused["no sender"] = (json.dumps({"message": "hello"}), {})
    reached = 0
    for spelled in spellings(path):
        for reason, (body, headers) in refused.items():
            status, answer = send(bot, "POST", spelled, body.encode(), **headers)
            assert status < 500, (spelled, reason, status)
            assert not 200 <= status < 300, (spelled, reason, status, answer[:200])
            reached += status not in (404, 405)
    assert reached >= len(refused) * 4  # the check ran on several spellings


@pytest.mark.parametrize("path", sorted(WEBHOOK_LIMITS))
def test_one_rate_limit_whatever_the_spelling(bot, path):
    visitor, sent = f"spelling-{uuid.uuid4().hex[:8]}", 0
    if "widget" in path:  # the bot names the conversation on its first message
        visitor, sent = bot.widget_say("hello")[0], 1
    body = json.dumps({"sender": visitor, "message": "hello"}).encode()
    headers = {"Content-Type": "application/json", "Origin": ALLOWED_ORIGIN}
    for _ in range(20 - sent):
        assert send(bot, "POST", path, body, **headers)[0] == 200
    for spelled in spellings(path):
        status, answer = send(bot, "POST", spelled, body, **headers)
        assert status in (404, 405, 429), (spelled, status, answer[:200])


def webhook_accepts(path: str, body: bytes, origin: str | None) -> bool:
    """Whether the webhook's own checks let this request through.

    The widget takes no sender but the ids the bot issues, which these bodies never hold.
    """
    widget = "widget" in path
    if widget and origin not in (None, ALLOWED_ORIGIN):
        return False
    try:
        payload = parse_webhook_body(body, WEBHOOK_LIMITS[path], sender_required=not widget)
    except RequestRejected:
        return False
    return not widget or payload.get("sender") is None


BODIES = st.one_of(
    st.fixed_dictionaries(
        {"message": ODD_TEXT},
        optional={
            "sender": st.uuids().map(lambda u: f"routes-{u.hex[:10]}"),
            "metadata": JSON_VALUES,
        },
    ).map(lambda payload: json.dumps(payload).encode()),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=300),
)


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    spelling=st.integers(0, 13),
    method=st.sampled_from(["POST"] * 4 + METHODS),
    body=BODIES,
    origin=st.sampled_from([None, ALLOWED_ORIGIN, FOREIGN_ORIGIN, "null"]),
)
def test_hypothesis_over_every_route_spelling_and_method(
    bot, route, spelling, method, body, origin
):
    path = route[0]
    spelled = spellings(path)[spelling]
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = origin
    status, answer = send(bot, method, spelled, body, **headers)
    event(f"{method} {status}")
    assert status < 500, (method, spelled, status, answer[:200])
    if path in WEBHOOK_LIMITS and 200 <= status < 300 and method not in ("HEAD", "OPTIONS"):
        assert webhook_accepts(path, body, origin), (method, spelled, body[:200])
