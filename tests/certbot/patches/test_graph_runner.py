"""The bot's graph runner gives Rasa's results without dask."""

from __future__ import annotations

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from certbot.patches.graph_runner import run_in_order
from tests.servers import MODEL

DASK_RUN = DaskGraphRunner.run  # Rasa's own, taken before any test installs ours
TEXTS = [
    "hello",
    "who issues ISO 9001 certificates?",
    "does iso certify companies",
    "what's the weather like in Paris",
    "I'd like to talk to a person",
    "certification",
    "/faq",
]


@pytest.fixture(scope="module")
def processor():
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it)")
    return Agent.load(str(MODEL)).processor


def understand(run, processor, text: str) -> dict:
    runner, target = processor.graph_runner, processor.model_metadata.nlu_target
    inputs = {PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: None}
    [message] = run(runner, inputs, [target])[target]
    return message.as_dict(only_output_properties=True)


@pytest.mark.parametrize("text", TEXTS)
def test_messages_are_understood_as_rasa_does(processor, text):
    assert understand(run_in_order, processor, text) == understand(DASK_RUN, processor, text)


@pytest.mark.parametrize("text", TEXTS)
def test_next_actions_are_predicted_as_rasa_does(processor, text):
    parse = understand(DASK_RUN, processor, text)
    tracker = DialogueStateTracker.from_events(
        "visitor", [ActionExecuted("action_listen"), UserUttered(text, parse["intent"], [], parse)]
    )
    runner, target = processor.graph_runner, processor.model_metadata.core_target
    ours = run_in_order(runner, {PLACEHOLDER_TRACKER: tracker}, [target])[target]
    rasa = DASK_RUN(runner, {PLACEHOLDER_TRACKER: tracker}, [target])[target]
    assert (ours.policy_name, ours.probabilities, ours.events) == (
        rasa.policy_name, rasa.probabilities, rasa.events
    )  # fmt: skip
    assert max(ours.probabilities) > 0


def test_an_input_named_like_a_node_is_refused_as_rasa_does(processor):
    runner = processor.graph_runner
    clash = {"x": processor.model_metadata.nlu_target}
    for run in (run_in_order, DASK_RUN):
        with pytest.raises(GraphRunError):
            run(runner, clash, [processor.model_metadata.nlu_target])
