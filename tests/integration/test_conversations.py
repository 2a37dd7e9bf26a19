"""Conversations over the REST channel with a real bot, action server and SQLite store."""

from __future__ import annotations

import json
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.responses import is_response
from tests.integration.topics import TOPICS


def new_visitor() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def greeted_visitor(bot) -> str:
    """A new visitor who has said hello (and been greeted)."""
    visitor = new_visitor()
    bot.say(visitor, "hello")
    return visitor


def ask(bot, text: str) -> list[dict]:
    """A visitor's first message: the greeting comes first, then the answer."""
    replies = bot.say(new_visitor(), text)
    assert is_response(replies[0], "utter_greet")
    assert len(replies[0]["buttons"]) == 3
    return replies[1:]


def test_new_conversation_starts_with_greeting_and_three_questions(bot):
    replies = bot.say(new_visitor(), "hi")
    assert is_response(replies[0], "utter_greet")
    assert [b["title"] for b in replies[0]["buttons"]] == [
        "Does ISO issue certificates?",
        "Who issues ISO certificates?",
        "Is certification mandatory?",
    ]


@pytest.mark.parametrize(("question", "response"), TOPICS)
def test_every_topic_gets_its_answer(bot, question, response):
    replies = ask(bot, question)
    assert is_response(replies[0], response), replies


def test_visitors_asking_at_once_each_get_their_answer(bot):
    """More messages than the bot handles at once: the waiting ones are understood
    together with others (certbot/patches/parse_ahead.py), each as if alone."""
    with ThreadPoolExecutor(len(TOPICS)) as pool:
        answers = list(pool.map(lambda topic: ask(bot, topic[0]), TOPICS))
    for (question, response), replies in zip(TOPICS, answers, strict=True):
        assert is_response(replies[0], response), (question, replies)


def test_answers_echo_the_standard_named(bot):
    [reply] = ask(bot, "Does ISO issue ISO 14001 certificates?")
    assert is_response(reply, "utter_faq/iso_certifies", standard="ISO 14001")
    assert "ISO 14001 certificates" in reply["text"]


def test_compliant_vs_certified_echoes_the_standard(bot):
    [reply] = ask(bot, "what does ISO 27001 compliant mean?")
    assert is_response(reply, "utter_faq/compliant_vs_certified", standard="ISO/IEC 27001")
    assert '"ISO/IEC 27001 compliant"' in reply["text"]


def test_answers_speak_only_of_a_standard_the_question_names(bot):
    visitor = new_visitor()
    bot.say(visitor, "who certifies iso/iec 27001?")
    [reply] = bot.say(visitor, "is iso14001 mandatory?")
    assert "ISO 14001" in reply["text"] and "27001" not in reply["text"]
    for question in ("what is CASCO?", "Is certification mandatory?"):
        [reply] = bot.say(visitor, question)
        assert "14001" not in reply["text"], (question, reply)
    [reply] = bot.say(visitor, "To check a ISO 14001 certificate")
    assert "an ISO 14001 certificate" in reply["text"], reply
    [reply] = bot.say(visitor, "Is certification mandatory?")
    assert "14001" not in reply["text"]


def test_quick_reply_buttons_are_answered(bot):
    [reply] = ask(bot, "who issues certificates?")
    for button in reply["buttons"]:
        [answer] = ask(bot, button["payload"])
        assert answer["text"], button
        assert not is_response(answer, "utter_out_of_scope"), button


def test_did_you_mean_then_contact_offer(bot):
    visitor = greeted_visitor(bot)
    [first] = bot.say(visitor, "question about certificates")
    assert is_response(first, "utter_did_you_mean"), first
    assert first["buttons"][-1] == {"title": "None of these", "payload": "/deny"}
    assert 2 <= len(first["buttons"]) <= 4
    [second] = bot.say(visitor, "certification question")
    assert is_response(second, "utter_offer_contact"), second


def test_none_of_these_offers_contact(bot):
    visitor = greeted_visitor(bot)
    bot.say(visitor, "question about certificates")
    [reply] = bot.say(visitor, "/deny")
    assert is_response(reply, "utter_offer_contact")


def stored_contact_requests(db, visitor: str) -> list[dict]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select data from events where sender_id = ? and type_name = 'slot'"
            " and action_name = 'contact_request'",
            (visitor,),
        ).fetchall()
    return [json.loads(data)["value"] for (data,) in rows if json.loads(data)["value"]]


def test_contact_request_with_an_invalid_email(bot):
    visitor = greeted_visitor(bot)
    [reply] = bot.say(visitor, "I'd like to talk to a person")
    assert is_response(reply, "utter_ask_contact_name")
    [reply] = bot.say(visitor, "Ana Pereira")
    assert is_response(reply, "utter_ask_contact_email", contact_name="Ana Pereira")
    replies = bot.say(visitor, "ana at example dot com")
    assert is_response(replies[0], "utter_invalid_email")
    assert is_response(replies[-1], "utter_ask_contact_email", contact_name="Ana Pereira")
    [reply] = bot.say(visitor, "ana@example.com")
    assert is_response(reply, "utter_ask_contact_question")
    question = "How long would ISO 9001 certification take for 40 people?"
    [reply] = bot.say(visitor, question)
    assert is_response(reply, "utter_ask_contact_consent", contact_question=question)
    [reply] = bot.say(visitor, "/affirm")
    assert is_response(
        reply,
        "utter_contact_submitted",
        contact_name="Ana Pereira",
        contact_email="ana@example.com",
    )
    requests_stored = stored_contact_requests(bot.db, visitor)
    assert len(requests_stored) == 1
    assert requests_stored[0]["question"].startswith("How long would ISO 9001")
    assert requests_stored[0]["consent"] is True


def test_quote_question_leads_to_the_contact_form_on_yes_which_does_not_ask_it_again(bot):
    visitor = greeted_visitor(bot)
    question = "how much would 14001 certification cost us"
    [reply] = bot.say(visitor, question)
    assert is_response(reply, "utter_ask_quote", standard="ISO 14001"), reply
    [reply] = bot.say(visitor, "yes please")
    assert is_response(reply, "utter_ask_contact_name")
    bot.say(visitor, "Ana Pereira")
    [reply] = bot.say(visitor, "ana@example.com")
    assert is_response(reply, "utter_ask_contact_consent", contact_question=question), reply


def test_a_service_question_naming_a_standard_gets_an_offer_about_it(bot):
    [reply] = ask(bot, "do you do ISO 27001?")
    assert is_response(reply, "utter_ask_quote", standard="ISO/IEC 27001"), reply
    assert "your question about ISO/IEC 27001" in reply["text"]


def test_a_question_typed_as_the_name_is_kept_as_the_question_not_the_name(bot):
    visitor = greeted_visitor(bot)
    bot.say(visitor, "I want to talk to a person")
    question = "What's the weather in London tomorrow?"
    replies = bot.say(visitor, question)
    assert is_response(replies[0], "utter_question_before_name"), replies
    assert is_response(replies[-1], "utter_ask_contact_name"), replies
    [reply] = bot.say(visitor, "Ana Pereira")
    assert is_response(reply, "utter_ask_contact_email", contact_name="Ana Pereira")
    [reply] = bot.say(visitor, "ana@example.com")
    assert is_response(reply, "utter_ask_contact_consent", contact_question=question), reply


def test_hello_as_the_first_message_is_greeted_once(bot):
    replies = bot.say(new_visitor(), "hello")
    assert [is_response(r, "utter_greet") for r in replies] == [True], replies


def test_a_likely_off_topic_low_confidence_question_is_declined_once(bot):
    replies = bot.say(new_visitor(), "How to check the authenticity of the certificate?")
    assert not any(is_response(r, "utter_default") for r in replies), replies


def test_contact_request_can_be_cancelled(bot):
    visitor = greeted_visitor(bot)
    bot.say(visitor, "can someone contact me")
    [reply] = bot.say(visitor, "cancel")
    assert is_response(reply, "utter_contact_cancelled")
    [reply] = bot.say(visitor, "who issues certificates?")
    assert is_response(reply, "utter_faq/who_certifies")


def test_cancelling_the_contact_request_forgets_what_was_typed(bot):
    visitor = greeted_visitor(bot)
    bot.say(visitor, "talk to a human")
    bot.say(visitor, "Ana Pereira")
    bot.say(visitor, "ana@example.com")
    [reply] = bot.say(visitor, "cancel")
    assert is_response(reply, "utter_contact_cancelled")
    [reply] = bot.say(visitor, "can someone contact me")
    assert is_response(reply, "utter_ask_contact_name"), reply
    bot.say(visitor, "Bo Jensen")
    [reply] = bot.say(visitor, "bo@example.org")
    assert is_response(reply, "utter_ask_contact_question"), reply


def test_refusing_consent_sends_nothing(bot):
    visitor = greeted_visitor(bot)
    bot.say(visitor, "talk to a human")
    bot.say(visitor, "Bo Jensen")
    bot.say(visitor, "bo@example.org")
    bot.say(visitor, "Can you audit us?")
    [reply] = bot.say(visitor, "/deny")
    assert is_response(reply, "utter_contact_cancelled")
    assert stored_contact_requests(bot.db, visitor) == []


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "🙂🙂🙂",
        "¿Quién emite los certificados ISO?",
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "/restart_everything{broken json",
    ],
)
def test_bad_input_gets_a_reply_and_the_conversation_continues(bot, text):
    visitor = greeted_visitor(bot)
    response = requests.post(bot.webhook, json={"sender": visitor, "message": text}, timeout=60)
    assert response.status_code < 500
    [reply] = bot.say(visitor, "who issues certificates?")
    assert is_response(reply, "utter_faq/who_certifies")


def test_empty_message_gets_a_clear_error(bot):
    for text in ("", "  \n "):
        response = requests.post(
            bot.webhook, json={"sender": new_visitor(), "message": text}, timeout=30
        )
        assert response.status_code == 400
        assert response.json() == {"error": "'message' is empty"}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"sender": "x"}', b'{"message": 5, "sender": "x"}', b"\xff\xfe"],
)
def test_malformed_requests_never_cause_a_server_error(bot, body):
    response = requests.post(
        bot.webhook, data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert bot.say(new_visitor(), "hello")


def test_oversized_message_is_refused_with_413(bot):
    response = requests.post(
        bot.webhook, json={"sender": new_visitor(), "message": "x" * 10_001}, timeout=30
    )
    assert response.status_code == 413
    assert "10000" in response.json()["error"]


def test_restart_keeps_the_conversation(bot):
    visitor = greeted_visitor(bot)
    bot.say(visitor, "I want to speak to someone")
    bot.say(visitor, "Chris Lee")

    bot.rasa.stop()
    bot.rasa.start()

    [reply] = bot.say(visitor, "chris@example.net")
    assert is_response(reply, "utter_ask_contact_question")
    with sqlite3.connect(bot.db) as conn:
        texts = [
            json.loads(d).get("text")
            for (d,) in conn.execute(
                "select data from events where sender_id = ? and type_name = 'user'", (visitor,)
            )
        ]
    assert texts == ["hello", "I want to speak to someone", "Chris Lee", "chris@example.net"]
