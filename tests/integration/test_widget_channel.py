"""The widget's channel on a real bot: protocol, limits, CORS, files."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
import requests

from tests.integration.responses import is_response
from tests.servers import ALLOWED_ORIGIN


def post(bot, payload, **headers):
    return requests.post(bot.widget + "webhook", json=payload, headers=headers, timeout=30)


def visitor() -> str:
    return f"widget-{uuid.uuid4().hex[:12]}"


def test_speaks_the_rest_protocol(bot):
    sender = visitor()
    [greeting] = post(bot, {"sender": sender, "message": "/session_start"}).json()
    assert is_response(greeting, "utter_greet")
    [answer] = post(bot, {"sender": sender, "message": "who issues ISO certificates?"}).json()
    assert is_response(answer, "utter_faq/who_certifies")


def test_message_over_2000_characters_is_refused(bot):
    reply = post(bot, {"sender": visitor(), "message": "x" * 2001})
    assert reply.status_code == 413
    assert "2000" in reply.json()["error"]
    assert post(bot, {"sender": visitor(), "message": "x" * 2000}).status_code == 200


def test_malformed_request_gets_a_json_error(bot):
    reply = requests.post(bot.widget + "webhook", data=b"{oops", timeout=30)
    assert reply.status_code == 400
    assert reply.json()["error"]


def test_a_visitor_sending_too_fast_is_rate_limited(bot):
    sender = visitor()
    statuses = [
        post(bot, {"sender": sender, "message": f"hello {i}"}).status_code for i in range(20)
    ]
    assert statuses == [200] * 20
    limited = post(bot, {"sender": sender, "message": "one more"})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "wait" in limited.json()["error"]
    assert post(bot, {"sender": visitor(), "message": "hello"}).status_code == 200


def test_allowed_origin_gets_cors_headers_on_a_simple_request(bot):
    reply = requests.post(
        bot.widget + "webhook",
        data=json.dumps({"sender": visitor(), "message": "hi"}),
        headers={"Origin": ALLOWED_ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
        timeout=30,
    )
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert is_response(reply.json()[-1], "utter_greet")


def test_same_origin_needs_no_allowlist(bot):
    reply = post(bot, {"sender": visitor(), "message": "hi"}, Origin=bot.rasa.url)
    assert reply.status_code == 200


def test_other_origins_are_refused_readably_and_logged_once(bot):
    origin = f"https://refused-{uuid.uuid4().hex[:8]}.example"
    for _ in range(3):
        reply = post(bot, {"sender": visitor(), "message": "hi"}, Origin=origin)
        assert reply.status_code == 403
        # The widget on that site can read why (nothing was done for it) and stop retrying.
        assert reply.headers["Access-Control-Allow-Origin"] == origin
        assert reply.json()["error"] == "this website is not allowed to use the chat"
    assert bot.rasa.log.read_text(errors="replace").count(origin) == 1


def test_feedback_is_stored_without_a_reply(bot):
    sender = visitor()
    post(bot, {"sender": sender, "message": "who issues ISO certificates?"})
    reply = post(
        bot,
        {
            "sender": sender,
            "message": '/feedback{"rating": "down"}',
            "metadata": {"feedback_for": "Certificates are issued by"},
        },
    )
    assert reply.json() == []
    with sqlite3.connect(bot.db) as conn:
        rows = conn.execute(
            "select data from events where sender_id = ? and intent_name = 'feedback'", (sender,)
        ).fetchall()
    [event] = [json.loads(data) for (data,) in rows]
    assert event["parse_data"]["entities"][0]["value"] == "down"
    assert event["metadata"]["feedback_for"] == "Certificates are issued by"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("widget.js", "application/javascript"), ("widget.css", "text/css")],
)
def test_serves_the_widget_files(bot, path, content_type):
    reply = requests.get(bot.widget + path, timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith(content_type)
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_serves_the_demo_page_under_a_strict_csp(bot):
    reply = requests.get(bot.widget + "demo", timeout=10)
    assert reply.url.endswith("/demo/")
    assert reply.status_code == 200
    csp = reply.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert '<script src="../widget.js"' in reply.text
