"""The socket.io channel on the real bot, with python-socketio's own client: replies
delivered with session persistence, conversations continued only with the id the bot
issued, origins, limits and checks like the widget's."""

from __future__ import annotations

import asyncio

import pytest
import requests
import socketio

from certbot.channels.conversation_ids import PREFIX
from tests.integration.responses import is_response
from tests.integration.socketio_visitors import REPLY_TIMEOUT, Visitor, in_own_loop, visitor


@in_own_loop
async def test_one_set_of_replies_per_message(bot):
    async with visitor(bot) as person:
        assert person.session_id.startswith(PREFIX + ".")
        replies = await person.say("who issues ISO certificates?")
        assert is_response(replies[0], "utter_greet"), replies
        assert is_response(replies[-1], "utter_faq/who_certifies"), replies
        assert len(replies) == 2
        [reply] = await person.say("is ISO certification mandatory?")
        assert is_response(reply, "utter_faq/mandatory"), reply


@in_own_loop
async def test_a_new_connection_with_the_session_continues_the_conversation(bot):
    async with visitor(bot) as person:
        replies = await person.say("I'd like to talk to a person")
        assert is_response(replies[-1], "utter_ask_contact_name"), replies
        session_id = person.session_id
    async with visitor(bot, session_id) as again:
        assert again.session_id == session_id
        [reply] = await again.say("Dana Scully")
        assert is_response(reply, "utter_ask_contact_email", contact_name="Dana Scully")


@pytest.mark.parametrize(
    "forged", [f"{PREFIX}.{'0' * 32}.{'0' * 32}", "widget-abc123", "default", "x" * 200]
)
@in_own_loop
async def test_a_session_id_the_bot_did_not_issue_gets_a_new_conversation(bot, forged):
    async with visitor(bot, forged) as person:
        assert person.session_id != forged
        assert person.session_id.startswith(PREFIX + ".")


@in_own_loop
async def test_a_message_for_another_session_is_refused(bot):
    async with visitor(bot) as owner:
        await owner.say("I'd like to talk to a person")
        async with visitor(bot) as intruder:
            [reply] = await intruder.say("Mallory", session_id=owner.session_id)
            assert reply["error"]["status"] == 403, reply
        [reply] = await owner.say("Dana Scully")
        assert is_response(reply, "utter_ask_contact_email", contact_name="Dana Scully")


@in_own_loop
async def test_three_visitors_at_once_get_only_their_own_replies(bot):
    questions = {
        "who issues ISO certificates?": "utter_faq/who_certifies",
        "is ISO certification mandatory?": "utter_faq/mandatory",
        "what is ISO/CASCO?": "utter_faq/casco",
    }

    async def ask(question: str) -> list[dict]:
        async with visitor(bot) as person:
            return await person.say(question)

    answers = await asyncio.gather(*(ask(question) for question in questions))
    for (question, response), replies in zip(questions.items(), answers, strict=True):
        assert is_response(replies[-1], response), (question, replies)
        assert len(replies) == 2, (question, replies)


@in_own_loop
async def test_a_disallowed_origin_cannot_connect(bot):
    person = Visitor(bot, origin="https://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await person.start()


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"message": "x" * 2001}, 413),
        ({"message": "   "}, 400),
        ({"message": '/greet{"standard": "[log in](https://e.vil)"}'}, 400),
        ({"message": "hi", "metadata": {"feedback_for": {"a": 1}}}, 400),
    ],
)
@in_own_loop
async def test_refused_messages_say_why_and_are_not_stored(bot, fields, status):
    async with visitor(bot) as person:
        text = fields.pop("message")
        [reply] = await person.say(text, **fields)
        assert reply["error"]["status"] == status, reply
        assert reply["text"]
        [*_, answer] = await person.say("who issues ISO certificates?")
        assert is_response(answer, "utter_faq/who_certifies"), answer


@in_own_loop
async def test_the_rest_channel_cannot_write_into_a_socketio_conversation(bot):
    async with visitor(bot) as person:
        reply = requests.post(
            bot.webhook, json={"sender": person.session_id, "message": "hi"}, timeout=30
        )
        assert reply.status_code == 403, reply.text


@in_own_loop
async def test_a_visitor_sending_too_fast_is_told_to_wait(bot):
    async with visitor(bot) as person:
        for index in range(21):  # the limit is 20 a minute; one at a time, as clients send
            data = {"message": f"hello {index}", "session_id": person.session_id}
            await person.client.emit("user_uttered", data)
            reply = await asyncio.wait_for(person.replies.get(), REPLY_TIMEOUT)
        while "error" not in reply:
            reply = await asyncio.wait_for(person.replies.get(), REPLY_TIMEOUT)
        assert reply["error"]["status"] == 429
        assert "wait" in reply["text"]
