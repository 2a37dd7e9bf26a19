"""Parse results of repeated messages, from memory.

Understanding a message (spaCy, the featurizers, DIET and the ResponseSelector) is about
half of the bot's CPU per message (docs/performance.md), and visitors repeat themselves:
greetings, thanks, "yes", the widget's suggested questions. With this project's pipeline
the result depends on the text alone, so `install` makes Rasa keep the results of the
last `NLU_CACHE_SIZE` texts (default 1000; 0 turns the cache off) per loaded model and
reuse them for the very same text. A result is kept as JSON and every message gets its
own fresh copy, so nothing Rasa changes in one parse can leak into another. A model whose
NLU graph reads the conversation (a component needing Rasa's tracker input) is parsed
without the cache, with a warning: its results depend on more than the text.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_TRACKER
from rasa.engine.graph import GraphSchema
from rasa.shared.core.trackers import DialogueStateTracker

from certbot.environment import count_setting

logger = logging.getLogger(__name__)

DEFAULT_SIZE = 1000
SIZE_VARIABLE = "NLU_CACHE_SIZE"


class ParseCache:
    """The parse results of the most recent texts, for one model at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.model_id: str | None = None
        self.hits = 0
        self.misses = 0
        self._results: OrderedDict[str, str] = OrderedDict()

    def get(self, model_id: str | None, text: str) -> dict[str, Any] | None:
        """A fresh copy of the text's result under this model, if kept."""
        if model_id != self.model_id:
            self.model_id = model_id
            self._results.clear()
        kept = self._results.get(text)
        if kept is None:
            self.misses += 1
            return None
        self.hits += 1
        self._results.move_to_end(text)
        return json.loads(kept)

    def put(self, text: str, result: dict[str, Any]) -> dict[str, Any]:
        """Keep the result; return the copy the caller should use (the same as a hit's)."""
        kept = json.dumps(result)
        if self.size:
            self._results[text] = kept
            while len(self._results) > self.size:
                self._results.popitem(last=False)
        return json.loads(kept)


def reads_tracker(schema: GraphSchema, target: str) -> bool:
    """Whether a node `target` depends on needs the conversation's tracker as input."""
    seen: set[str] = set()
    pending = [target]
    while pending:
        name = pending.pop()
        if name in seen or name not in schema.nodes:
            continue
        seen.add(name)
        needs = schema.nodes[name].needs.values()
        if PLACEHOLDER_TRACKER in needs:
            return True
        pending.extend(needs)
    return False


def text_alone(processor: MessageProcessor) -> bool:
    """Whether the processor's model understands a message from its text alone."""
    metadata = processor.model_metadata
    known: dict[str, bool] = processor.__dict__.setdefault("_certbot_text_alone", {})
    if metadata.model_id not in known:
        alone = not reads_tracker(metadata.predict_schema, metadata.nlu_target)
        if not alone:
            logger.warning(
                "model %s: an NLU component reads the conversation, so parse results are "
                "neither cached nor shared between conversations",
                metadata.model_id,
            )
        known[metadata.model_id] = alone
    return known[metadata.model_id]


def size_from_environment() -> int:
    """`NLU_CACHE_SIZE` as a number of texts (ValueError if it is not a count)."""
    return count_setting(SIZE_VARIABLE, DEFAULT_SIZE, least=0)


def install(size: int | None = None) -> ParseCache:
    """Make Rasa's message processor use a parse cache of `size` texts (once per process)."""
    current = getattr(MessageProcessor._parse_message_with_graph, "cache", None)
    if current is not None:
        return current
    cache = ParseCache(size_from_environment() if size is None else size)
    parse = MessageProcessor._parse_message_with_graph

    def parse_with_cache(
        self: MessageProcessor,
        message: UserMessage,
        tracker: DialogueStateTracker,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        if (
            not cache.size
            or not only_output_properties
            or not isinstance(message.text, str)
            or not text_alone(self)
        ):
            return parse(self, message, tracker, only_output_properties)
        result = cache.get(self.model_metadata.model_id, message.text)
        if result is None:
            result = cache.put(message.text, parse(self, message, tracker, True))
        return result

    parse_with_cache.cache = cache  # type: ignore[attr-defined]
    MessageProcessor._parse_message_with_graph = parse_with_cache
    return cache
