"""The widget's channel on a real bot: issued conversation ids, protocol, limits, CORS, files."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
import requests

from certbot.channels.conversation_ids import PREFIX, is_issued, issue, secret_from_environment
from certbot.channels.widget import NOT_ISSUED
from tests.integration.responses import is_response
from tests.servers import ALLOWED_ORIGIN


def post(bot, payload, **headers):
    return requests.post(bot.widget + "webhook", json=payload, headers=headers, timeout=30)


def test_speaks_the_rest_protocol_in_a_conversation_the_bot_names(bot):
    first = post(bot, {"message": "/session_start"})
    assert first.status_code == 200, first.text
    conversation = first.headers["X-Conversation-Id"]
    assert is_issued(secret_from_environment(), conversation)
    [greeting] = first.json()
    assert is_response(greeting, "utter_greet") and "rateable" not in greeting
    then = post(bot, {"sender": conversation, "message": "who issues ISO certificates?"})
    assert then.headers["X-Conversation-Id"] == conversation
    [answer] = then.json()
    assert is_response(answer, "utter_faq/who_certifies")
    assert answer["rateable"] is True  # a curated answer: the widget offers thumbs under it
    assert bot.stored_texts(conversation) == ["/session_start", "who issues ISO certificates?"]
    rest = bot.say(f"rest-{uuid.uuid4().hex}", "who issues ISO certificates?")
    assert rest and all("rateable" not in reply for reply in rest)  # REST is Rasa's protocol


def test_each_message_without_an_id_starts_a_new_conversation(bot):
    ids = {bot.widget_say("hello")[0] for _ in range(3)}
    assert len(ids) == 3
    assert all(conversation.startswith(PREFIX + ".") for conversation in ids)
    assert all(bot.stored_texts(conversation) == ["hello"] for conversation in ids)


@pytest.mark.parametrize(
    "forged",
    [
        "widget-abc123",  # an id the widget made up, as before
        f"{PREFIX}.{'0' * 32}.{'0' * 32}",
        issue("not the bot's key"),
    ],
)
def test_an_id_the_bot_did_not_issue_is_refused(bot, forged):
    reply = post(bot, {"sender": forged, "message": "hello"}, Origin=ALLOWED_ORIGIN)
    assert reply.status_code == 403
    assert reply.json() == {"error": NOT_ISSUED, "code": "conversation_not_issued"}
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN  # readable
    assert "X-Conversation-Id" not in reply.headers
    assert bot.stored_texts(forged) == []


def test_a_changed_signature_is_refused(bot):
    conversation, _ = bot.widget_say("hello")
    forged = conversation[:-1] + ("1" if conversation.endswith("0") else "0")
    assert post(bot, {"sender": forged, "message": "hello"}).status_code == 403
    assert bot.stored_texts(forged) == []


def test_a_rest_conversation_cannot_be_continued_on_the_widget(bot):
    conversation = f"backend-visitor-{uuid.uuid4().hex[:8]}"
    bot.say(conversation, "hello")
    reply = post(bot, {"sender": conversation, "message": "who issues certificates?"})
    assert reply.status_code == 403
    assert bot.stored_texts(conversation) == ["hello"]


def test_a_widget_conversation_cannot_be_continued_over_rest(bot):
    conversation, _ = bot.widget_say("hello")
    reply = requests.post(bot.webhook, json={"sender": conversation, "message": "who?"}, timeout=30)
    assert reply.status_code == 403
    assert bot.stored_texts(conversation) == ["hello"]


def test_message_over_2000_characters_is_refused(bot):
    reply = post(bot, {"message": "x" * 2001})
    assert reply.status_code == 413
    assert "2000" in reply.json()["error"]
    assert post(bot, {"message": "x" * 2000}).status_code == 200


def test_malformed_request_gets_a_json_error(bot):
    reply = requests.post(bot.widget + "webhook", data=b"{oops", timeout=30)
    assert reply.status_code == 400
    assert reply.json()["error"]


def test_a_visitor_sending_too_fast_is_rate_limited_by_its_conversation(bot):
    conversation, _ = bot.widget_say("hello 0")
    statuses = [
        post(bot, {"sender": conversation, "message": f"hello {i}"}).status_code
        for i in range(1, 20)
    ]
    assert statuses == [200] * 19
    limited = post(bot, {"sender": conversation, "message": "one more"})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "wait" in limited.json()["error"]
    assert post(bot, {"message": "hello"}).status_code == 200


def test_allowed_origin_gets_cors_headers_and_can_read_the_id(bot):
    reply = requests.post(
        bot.widget + "webhook",
        data=json.dumps({"message": "hi"}),
        headers={"Origin": ALLOWED_ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
        timeout=30,
    )
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    exposed = {name.strip() for name in reply.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"Retry-After", "X-Conversation-Id"}
    assert reply.headers["X-Conversation-Id"].startswith(PREFIX + ".")
    assert is_response(reply.json()[-1], "utter_greet")


def test_same_origin_needs_no_allowlist(bot):
    reply = post(bot, {"message": "hi"}, Origin=bot.rasa.url)
    assert reply.status_code == 200


def test_other_origins_are_refused_readably_and_logged_once(bot):
    origin = f"https://refused-{uuid.uuid4().hex[:8]}.example"
    for _ in range(3):
        reply = post(bot, {"message": "hi"}, Origin=origin)
        assert reply.status_code == 403
        # The widget on that site can read why (nothing was done for it) and stop retrying.
        assert reply.headers["Access-Control-Allow-Origin"] == origin
        assert reply.json() == {"error": "this website is not allowed to use the chat"}
        assert "X-Conversation-Id" not in reply.headers
    assert bot.rasa.log.read_text(errors="replace").count(origin) == 1


def test_feedback_is_stored_without_a_reply(bot):
    conversation, _ = bot.widget_say("who issues ISO certificates?")
    _, replies = bot.widget_say(
        '/feedback{"rating": "down"}',
        conversation,
        metadata={"feedback_for": "Certificates are issued by"},
    )
    assert replies == []
    with sqlite3.connect(bot.db) as conn:
        rows = conn.execute(
            "select data from events where sender_id = ? and intent_name = 'feedback'",
            (conversation,),
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
