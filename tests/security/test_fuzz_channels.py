"""Hypothesis against the real bot's public channels (widget and REST): whatever the body,
headers or method, the answer is never a server error and errors are JSON."""

from __future__ import annotations

import json

import requests
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.security.strategies import FUZZ, HEADER_TEXT, JSON_VALUES, ODD_TEXT
from tests.servers import ALLOWED_ORIGIN

SENDERS = st.uuids().map(lambda u: f"fuzz-{u.hex[:12]}")
WELL_FORMED = st.fixed_dictionaries(
    {"sender": SENDERS, "message": ODD_TEXT.filter(str.strip)},
    optional={
        "metadata": st.dictionaries(ODD_TEXT, JSON_VALUES, max_size=4)
        | st.fixed_dictionaries({"feedback_for": JSON_VALUES})
    },
)
PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        "sender": SENDERS | JSON_VALUES,
        "message": ODD_TEXT | JSON_VALUES,
        "metadata": JSON_VALUES,
        "input_channel": JSON_VALUES,
    },
)
BODIES = st.one_of(
    WELL_FORMED.map(lambda payload: json.dumps(payload).encode()),
    WELL_FORMED.map(lambda payload: json.dumps(payload).encode()),
    PAYLOADS.map(lambda payload: json.dumps(payload).encode()),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=2000),
    st.sampled_from([b"", b"{", b"\xff\xfe{}", b'{"message": "hi"' + b" " * 70_000 + b"}"]),
)
CONTENT_TYPES = st.none() | HEADER_TEXT | st.sampled_from(
    ["application/json", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x", "application/json; charset=latin-1", "text/html"]
)  # fmt: skip
ORIGINS = st.one_of(
    st.none(),
    st.just(ALLOWED_ORIGIN),
    HEADER_TEXT,
    st.sampled_from(["null", "https://evil.example", "http://allowed.example.evil.example"]),
)
METHODS = st.sampled_from(["POST"] * 6 + ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])


def check_answer(reply: requests.Response) -> None:
    """Never a server error; JSON for every webhook answer but a CORS preflight's."""
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])
    event(f"{reply.request.method} {reply.status_code}")
    if reply.request.method in ("HEAD", "OPTIONS"):
        return
    answer = reply.json()
    if reply.status_code >= 400:
        assert isinstance(answer, dict) and answer, answer
    else:
        assert isinstance(answer, list), answer


def fuzz(url: str, method: str, body: bytes, content_type: str | None, origin: str | None):
    headers = {"Content-Type": content_type, "Origin": origin}
    headers = {name: value for name, value in headers.items() if value is not None}
    return requests.request(method, url, data=body, headers=headers, timeout=60)


@FUZZ
@given(method=METHODS, body=BODIES, content_type=CONTENT_TYPES, origin=ORIGINS)
def test_widget_webhook_never_fails(bot, method, body, content_type, origin):
    check_answer(fuzz(bot.widget + "webhook", method, body, content_type, origin))


@FUZZ
@given(method=METHODS, body=BODIES, content_type=CONTENT_TYPES, origin=ORIGINS)
def test_rest_webhook_never_fails(bot, method, body, content_type, origin):
    check_answer(fuzz(bot.webhook, method, body, content_type, origin))


@settings(FUZZ, max_examples=100)
@given(path=st.text(max_size=60), method=METHODS)
def test_any_path_under_the_channels_never_fails(bot, path, method):
    for prefix in ("/webhooks/widget/", "/webhooks/rest/"):
        reply = requests.request(
            method, bot.rasa.url + prefix + requests.utils.quote(path), timeout=60
        )
        assert reply.status_code < 500, (prefix, path, reply.status_code, reply.text[:300])
