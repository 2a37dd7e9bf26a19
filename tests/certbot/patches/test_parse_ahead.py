import asyncio
import contextlib

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor

from certbot.patches import parse_ahead
from certbot.tools.evaluate import load_agent, outcome
from tests.servers import MODEL

TEXTS = [
    "who issues iso 9001 certificates",
    "hello",
    "what's the weather like tomorrow",
    "is iso certification mandatory for a small company",
    "can we print the iso logo on our van",
]


@pytest.fixture(scope="module")
def agent():
    return load_agent(MODEL)


@pytest.fixture
def installed(monkeypatch):
    """parse_ahead installed (3 at a time) for one test; Rasa's own parse restored after."""
    original = MessageProcessor._parse_message_with_graph
    monkeypatch.setattr(MessageProcessor, "_parse_message_with_graph", original)
    parse_ahead.install(size=3)


def assert_same_parse(ahead: dict, alone: dict) -> None:
    assert outcome(ahead) == outcome(alone)
    assert ahead["intent"]["confidence"] == pytest.approx(alone["intent"]["confidence"], abs=1e-4)
    assert [i["name"] for i in ahead["intent_ranking"]] == [
        i["name"] for i in alone["intent_ranking"]
    ]
    assert ahead.keys() == alone.keys()


def test_waiting_messages_get_the_parse_they_would_get_alone(agent, installed):
    alone = [asyncio.run(agent.parse_message(text)) for text in TEXTS]
    messages = [UserMessage(text) for text in TEXTS]
    with contextlib.ExitStack() as stack:
        for message in messages:
            stack.enter_context(parse_ahead.waiting(message))
        first = asyncio.run(agent.processor.parse_message(messages[0]))
        # The first message and the next two waiting ones (size 3); the rest wait their turn.
        assert [m.parse_data is not None for m in messages] == [False, True, True, False, False]
        later = asyncio.run(agent.processor.parse_message(messages[3]))
        assert messages[4].parse_data is not None
    assert_same_parse(first, alone[0])
    assert_same_parse(later, alone[3])
    for index in (1, 2, 4):
        assert_same_parse(messages[index].parse_data, alone[index])
    assert outcome(messages[4].parse_data).startswith("faq/")  # full retrieval intent set


def test_a_message_alone_is_parsed_as_rasa_parses_it(agent, installed):
    message = UserMessage(TEXTS[0])
    with parse_ahead.waiting(message):
        parsed = asyncio.run(agent.processor.parse_message(message))
    assert_same_parse(parsed, asyncio.run(agent.parse_message(TEXTS[0])))
    assert message.parse_data is None


def test_a_message_leaves_the_waiting_ones_when_handled():
    message = UserMessage("hello")
    with parse_ahead.waiting(message):
        assert parse_ahead._waiting == {id(message): message}
    assert parse_ahead._waiting == {}


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_bad_size_is_refused(monkeypatch, value):
    monkeypatch.setenv(parse_ahead.SIZE_VARIABLE, value)
    with pytest.raises(ValueError):
        parse_ahead.size_from_environment()
