"""Messages waiting for their turn are understood together with the one whose turn it is.

Under load most visitor messages wait in the admission queue (certbot/channels/admission.py) while
a few are handled. Understanding messages costs a third as much per message when several
go through the NLU graph together: the sentence encoder, DIET and the ResponseSelector
(certbot/nlu/batched_classifiers.py) then run once for all of them (docs/performance.md).
`install` makes the bot parse, with each message that reaches the NLU, up to
`PARSE_AHEAD - 1` (default 7) of the messages waiting behind it; each gets its parse data
as Rasa's `UserMessage.parse_data`, which Rasa uses instead of parsing it again when its
turn comes. A quiet bot parses each message alone, as Rasa does, and nothing waits for a
batch to fill: batches form only from messages already waiting. With this pipeline the
parse depends on the text alone, so one conversation's tracker serves the whole batch; a
model whose NLU reads the conversation parses each message alone
(`certbot.patches.nlu_cache.text_alone`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.shared.core.trackers import DialogueStateTracker

from certbot.environment import count_setting
from certbot.patches.nlu_cache import text_alone

logger = logging.getLogger(__name__)

DEFAULT_SIZE = 8
SIZE_VARIABLE = "PARSE_AHEAD"

# The messages waiting for their turn or handled but not yet understood, oldest first.
_waiting: dict[int, UserMessage] = {}


def parse_together(
    processor: MessageProcessor,
    messages: list[UserMessage],
    tracker: DialogueStateTracker,
) -> list[dict[str, Any]]:
    """Each message's parse data from one run of the NLU graph, as Rasa parses one alone."""
    target = processor.model_metadata.nlu_target
    inputs = {PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: tracker}
    parses = []
    for parsed in processor.graph_runner.run(inputs=inputs, targets=[target])[target]:
        parse = {"text": "", "intent": {"name": None, "confidence": 0.0}, "entities": []}
        parse.update(parsed.as_dict(only_output_properties=True))
        parses.append(parse)
    return parses


@contextlib.contextmanager
def waiting(message: UserMessage) -> Iterator[None]:
    """Make `message` one that may be parsed ahead while it waits and is handled."""
    _waiting[id(message)] = message
    try:
        yield
    finally:
        _waiting.pop(id(message), None)


def size_from_environment() -> int:
    """`PARSE_AHEAD`: messages parsed together at most (1 turns parsing ahead off)."""
    return count_setting(SIZE_VARIABLE, DEFAULT_SIZE, least=1)


def install(size: int | None = None) -> None:
    """Make Rasa's message processor parse waiting messages ahead (once per process)."""
    if getattr(MessageProcessor._parse_message_with_graph, "parses_ahead", False):
        return
    size = size_from_environment() if size is None else size
    parse = MessageProcessor._parse_message_with_graph

    def parse_with_waiting(
        self: MessageProcessor,
        message: UserMessage,
        tracker: DialogueStateTracker,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        _waiting.pop(id(message), None)  # understood now: not one to parse ahead
        others = [other for other in _waiting.values() if other.parse_data is None][: size - 1]
        if not others or not only_output_properties or not text_alone(self):
            return parse(self, message, tracker, only_output_properties)
        try:
            first, *rest = parse_together(self, [message, *others], tracker)
        except Exception:  # one message the graph cannot take: each parsed alone instead
            logger.exception("parsing %d messages together failed", len(others) + 1)
            return parse(self, message, tracker, only_output_properties)
        logger.debug("understood %d waiting messages with this one", len(others))
        for other, parsed in zip(others, rest, strict=True):
            self._update_full_retrieval_intent(parsed)
            other.parse_data = parsed
        return first

    parse_with_waiting.parses_ahead = True  # type: ignore[attr-defined]
    MessageProcessor._parse_message_with_graph = parse_with_waiting
