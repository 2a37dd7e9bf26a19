"""The console lists socket.io conversations (rasa-webchat, python-socketio) like widget
ones: in the list with their summary, and their transcript with every message (issue 13)."""

from __future__ import annotations

import pytest

from tests.integration.responses import is_response
from tests.integration.socketio_visitors import in_own_loop, visitor

QUESTIONS = ("who issues ISO 9001 certificates?", "what's the weather like in Paris tomorrow")
# What differs between two conversations with the same messages: their id and times.
OWN_FIELDS = {"id", "started", "last_event", "day"}


@in_own_loop
async def socketio_conversation(bot) -> str:
    """A python-socketio visitor asks the questions; its conversation id."""
    async with visitor(bot) as person:
        first, second = [await person.say(question) for question in QUESTIONS]
        assert is_response(first[-1], "utter_faq/who_certifies", standard="ISO 9001"), first
        assert is_response(second[-1], "utter_out_of_scope"), second
        return person.session_id


def widget_conversation(bot) -> str:
    """A widget visitor asks the same questions; its conversation id (issued by the bot)."""
    conversation, _ = bot.widget_say(QUESTIONS[0])
    bot.widget_say(QUESTIONS[1], conversation)
    return conversation


@pytest.fixture(scope="module")
def pair(bot) -> dict[str, str]:
    """The same conversation held over socket.io and over the widget: their ids."""
    return {
        "socketio": socketio_conversation(bot),
        "widget": widget_conversation(bot),
    }


@pytest.fixture(scope="module")
def viewer(console):
    return console.session("viewer")


def listed_row(viewer, console, conversation_id: str) -> dict:
    response = viewer.get(console.url + "/api/conversations", params={"q": "weather like in Paris"})
    assert response.status_code == 200, response.text
    [row] = [r for r in response.json()["conversations"] if r["id"] == conversation_id]
    return row


def without_own_fields(value: dict) -> dict:
    return {key: item for key, item in value.items() if key not in OWN_FIELDS}


def test_a_socketio_conversation_is_listed_like_a_widget_one(viewer, console, pair):
    rows = {channel: listed_row(viewer, console, cid) for channel, cid in pair.items()}
    assert rows["socketio"]["first_question"] == QUESTIONS[0]
    assert rows["socketio"]["messages"] == 2
    assert without_own_fields(rows["socketio"]) == without_own_fields(rows["widget"])


def test_a_socketio_transcript_shows_every_message_like_a_widget_one(viewer, console, pair):
    bodies = {
        channel: viewer.get(f"{console.url}/api/conversations/{cid}").json()
        for channel, cid in pair.items()
    }
    turns = {
        channel: [
            (t["kind"], t.get("text"), t.get("intent"), t.get("response")) for t in body["turns"]
        ]
        for channel, body in bodies.items()
    }
    visitor_texts = [text for kind, text, *_ in turns["socketio"] if kind == "visitor"]
    assert visitor_texts == list(QUESTIONS)
    responses = [response for kind, _, _, response in turns["socketio"] if kind == "bot"]
    assert responses == ["utter_greet", "utter_faq/who_certifies", "utter_out_of_scope"]
    assert turns["socketio"] == turns["widget"]
    assert bodies["socketio"]["flags"] == bodies["widget"]["flags"]
