"""Two bot instances sharing a PostgreSQL tracker store and a Redis lock store, with the
requests alternated between them as a round-robin load balancer does."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.responses import is_response
from tests.integration.services import (
    postgres_database,
    postgres_stores,
    redis_prefix,
    start_all,
    stop_all,
    tracker_events,
)
from tests.integration.topics import TOPICS
from tests.servers import ALLOWED_ORIGIN, Bot

FAQ_TOPICS = [(question, name) for question, name in TOPICS if name.startswith("utter_faq/")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """Two bots on one database and one lock store, sharing an action server."""
    with postgres_database() as database, redis_prefix() as prefix:
        stores = postgres_stores(database, lock_prefix=prefix)
        first = Bot(tmp_path_factory.mktemp("bot1"), [ALLOWED_ORIGIN], stores=stores)
        second = Bot(
            tmp_path_factory.mktemp("bot2"), [ALLOWED_ORIGIN], stores=stores, actions=first.actions
        )
        first.actions.start()
        bots = [first, second]
        try:
            start_all([bot.rasa for bot in bots])
            yield database, bots
        finally:
            stop_all(bots)


def test_a_conversation_alternating_between_instances_keeps_its_state(cluster):
    _, bots = cluster
    visitor = f"scale-{uuid.uuid4().hex[:12]}"
    steps = [
        ("I'd like to talk to a person", "utter_ask_contact_name", {}),
        ("Dana Scully", "utter_ask_contact_email", {"contact_name": "Dana Scully"}),
        ("dana@example.com", "utter_ask_contact_question", {}),
        ("How long does ISO 9001 certification take for 40 people?",
         "utter_ask_contact_consent",
         {"contact_question": "How long does ISO 9001 certification take for 40 people?"}),
        ("yes", "utter_contact_submitted",
         {"contact_name": "Dana Scully", "contact_email": "dana@example.com"}),
    ]  # fmt: skip
    for turn, (text, response, slots) in enumerate(steps):
        replies = bots[turn % 2].say(visitor, text)
        if turn == 0:
            assert is_response(replies.pop(0), "utter_greet")
        assert is_response(replies[0], response, **slots), (turn, replies)


def test_concurrent_messages_to_one_conversation_are_serialised(cluster):
    database, bots = cluster
    visitor = f"burst-{uuid.uuid4().hex[:12]}"
    bots[0].say(visitor, "hello")

    def send(index: int) -> list[dict]:
        return bots[index % 2].say(visitor, FAQ_TOPICS[index][0])

    with ThreadPoolExecutor(len(FAQ_TOPICS)) as pool:
        answers = list(pool.map(send, range(len(FAQ_TOPICS))))
    for (_, name), replies in zip(FAQ_TOPICS, answers, strict=True):
        assert is_response(replies[0], name), replies

    turns: list[list[dict]] = []  # each visitor message with the events after it
    for event in tracker_events(database, visitor):
        if event["event"] == "user":
            turns.append([event])
        elif turns:
            turns[-1].append(event)
    asked = [turn[0]["data"]["text"] for turn in turns]
    assert sorted(asked) == sorted(["hello"] + [question for question, _ in FAQ_TOPICS])
    expected = dict(FAQ_TOPICS)
    for turn in turns[1:]:
        said = [event["data"] for event in turn if event["event"] == "bot"]
        assert len(said) == 1, turn
        assert is_response(said[0], expected[turn[0]["data"]["text"]]), turn
        assert turn[-1]["name"] == "action_listen", turn
