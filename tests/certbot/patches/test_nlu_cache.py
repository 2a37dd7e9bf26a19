"""Repeated texts are parsed once per model, and every message gets its own result."""

from __future__ import annotations

import json

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.graph import GraphComponent, GraphSchema, SchemaNode

from certbot.patches import nlu_cache
from certbot.patches.nlu_cache import ParseCache
from tests.servers import MODEL


def test_a_kept_result_is_a_fresh_copy_each_time():
    cache = ParseCache(10)
    assert cache.get("m1", "hello") is None
    first = cache.put("hello", {"text": "hello", "intent": {"name": "greet"}})
    first["intent"]["name"] = "changed by Rasa"
    second, third = cache.get("m1", "hello"), cache.get("m1", "hello")
    assert second == third == {"text": "hello", "intent": {"name": "greet"}}
    assert second is not third
    assert (cache.hits, cache.misses) == (2, 1)


def test_the_least_recently_used_text_goes_first():
    cache = ParseCache(2)
    for text in ("a", "b"):
        cache.get("m1", text)
        cache.put(text, {"text": text})
    cache.get("m1", "a")
    cache.put("c", {"text": "c"})
    assert cache.get("m1", "b") is None
    assert cache.get("m1", "a") == {"text": "a"}


def test_a_new_model_starts_afresh():
    cache = ParseCache(10)
    cache.get("m1", "hello")
    cache.put("hello", {"text": "hello"})
    assert cache.get("m2", "hello") is None


def test_size_zero_keeps_nothing():
    cache = ParseCache(0)
    cache.get("m1", "hello")
    assert cache.put("hello", {"text": "hello"}) == {"text": "hello"}
    assert cache.get("m1", "hello") is None


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_a_bad_size_setting_is_refused(monkeypatch, value):
    monkeypatch.setenv(nlu_cache.SIZE_VARIABLE, value)
    with pytest.raises(ValueError):
        nlu_cache.size_from_environment()


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it)")
    return Agent.load(str(MODEL))


async def test_the_bot_parses_a_repeated_text_once_with_the_same_result(agent):
    cache = nlu_cache.install(100)
    parse = agent.processor.parse_message
    texts = ["who issues ISO 9001 certificates?", "what's the weather like tomorrow"]
    size = cache.size
    cache.size = 0  # the pipeline itself
    uncached = [await parse(UserMessage(text)) for text in texts]
    cache.size = size
    hits = cache.hits
    first = [await parse(UserMessage(text)) for text in texts]
    first[0]["intent"]["name"] = "changed"
    again = [await parse(UserMessage(text)) for text in texts]
    assert cache.hits == hits + len(texts)
    assert again == json.loads(json.dumps(uncached))  # the same, as stored in the tracker
    assert again[0]["intent"]["name"] == "faq"


def schema_with(needs: dict[str, dict[str, str]]) -> GraphSchema:
    """A graph of nodes with the given needs (their component class does not matter here)."""
    nodes = {
        name: SchemaNode(needs=node_needs, uses=GraphComponent, constructor_name="load",
                         fn="process", config={})
        for name, node_needs in needs.items()
    }  # fmt: skip
    return GraphSchema(nodes)


def test_a_graph_reading_the_tracker_on_the_way_to_the_nlu_is_seen():
    schema = schema_with(
        {
            "tokens": {"messages": PLACEHOLDER_MESSAGE},
            "context": {"tracker": PLACEHOLDER_TRACKER},
            "intent": {"messages": "tokens", "context": "context"},
            "policy": {"tracker": PLACEHOLDER_TRACKER},
        }
    )
    assert nlu_cache.reads_tracker(schema, "intent")
    assert not nlu_cache.reads_tracker(schema, "tokens")


def test_the_shipped_model_understands_a_message_from_its_text_alone(agent):
    assert nlu_cache.text_alone(agent.processor)
