"""`python -m bench.patches` (`make bench-patches`): what each speed patch saves, per message.

Loads the trained model in this process, measures Rasa as it comes, installs the patches
(`certbot.patches.install_all`) and measures again, on held-out texts that are all
different (the parse cache's hit is measured apart, as the repeated-text case it is):
- graph_runner: understanding one message (the NLU graph) and predicting the next action
  (the policy graph), Rasa's dask runner against the in-order run;
- parse_ahead: messages understood together in one graph run, per message, against alone;
- nlu_cache: a repeated text from the cache against the graph;
- action_validation: checking one action server response, Rasa's against the compiled
  validator.
Figures are milliseconds of CPU (this process) per message or response, medians.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bots import ROOT
from certbot.tools.evaluate import HELD_OUT_FILE, load_held_out

MODEL = ROOT / "models" / "certbot.tar.gz"
BATCH = 8
RESPONSE = {
    "events": [{"event": "slot", "name": "contact_name", "value": "Ada"}],
    "responses": [{"response": "utter_ask_contact_email"}],
}


def cpu_ms(work: Callable[[], Any], repeat: int = 1) -> float:
    """CPU milliseconds of `work`, per call, over `repeat` calls."""
    start = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - start) * 1000 / repeat


def median_ms(works: list[Callable[[], Any]]) -> float:
    """The median CPU milliseconds of one call of each of `works`."""
    return statistics.median(cpu_ms(work) for work in works)


def graph_figures(agent: Any, texts: list[str]) -> dict[str, float]:
    """Per message: understanding it, and predicting the action after it."""
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = agent.processor
    loop = asyncio.new_event_loop()
    parses: list[dict[str, Any]] = []

    def parse(text: str) -> Callable[[], None]:
        return lambda: parses.append(
            loop.run_until_complete(processor.parse_message(UserMessage(text)))
        )

    parse_ms = median_ms([parse(text) for text in texts])
    trackers = [
        DialogueStateTracker.from_events(
            "bench", [ActionExecuted("action_listen"), UserUttered(p["text"], p["intent"])]
        )
        for p in parses[-len(texts) :]
    ]
    predict_ms = median_ms(
        [functools.partial(processor._predict_next_with_tracker, t) for t in trackers]
    )
    loop.close()
    return {"understand": parse_ms, "predict action": predict_ms}


def measure(model: Path, count: int) -> dict[str, dict[str, float]]:
    """Each patch's figures, unpatched then patched."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from certbot.patches import install_all
    from certbot.patches.parse_ahead import parse_together

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))  # as Rasa loads it: not patched yet
    action = RemoteAction("action_submit_contact", None)
    texts = [text for text, _ in load_held_out(ROOT / HELD_OUT_FILE)]
    warm, texts = texts[:20], texts[20 : 20 + 2 * count]
    first, second = texts[:count], texts[count:]
    graph_figures(agent, warm)
    rasa_graph = graph_figures(agent, first)
    rasa_check = cpu_ms(lambda: action._validate_action_result(RESPONSE), 200)
    install_all()
    cache = MessageProcessor._parse_message_with_graph.cache
    size, cache.size = cache.size, 0
    ours_graph = graph_figures(agent, second)
    ours_check = cpu_ms(lambda: action._validate_action_result(RESPONSE), 200)
    tracker = DialogueStateTracker.from_events("bench", [])
    batches = [second[i : i + BATCH] for i in range(0, len(second) - BATCH + 1, BATCH)]

    def parse_batch(texts: list[str]) -> None:
        parse_together(agent.processor, [UserMessage(text) for text in texts], tracker)

    together = median_ms([functools.partial(parse_batch, batch) for batch in batches]) / BATCH
    cache.size = size
    loop = asyncio.new_event_loop()
    for text in first:
        loop.run_until_complete(agent.processor.parse_message(UserMessage(text)))

    def parse(text: str) -> None:
        loop.run_until_complete(agent.processor.parse_message(UserMessage(text)))

    hit = median_ms([functools.partial(parse, text) for text in first])
    loop.close()
    return {
        "graph_runner: understand a message": {
            "rasa": rasa_graph["understand"],
            "patched": ours_graph["understand"],
        },
        "graph_runner: predict the next action": {
            "rasa": rasa_graph["predict action"],
            "patched": ours_graph["predict action"],
        },
        f"parse_ahead: {BATCH} messages together, per message": {
            "rasa": ours_graph["understand"],
            "patched": together,
        },
        "nlu_cache: a repeated text": {"rasa": ours_graph["understand"], "patched": hit},
        "action_validation: one response": {"rasa": rasa_check, "patched": ours_check},
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and print one line per patch."""
    parser = argparse.ArgumentParser(prog="python -m bench.patches")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--texts", type=int, default=80, help="distinct texts per measurement")
    args = parser.parse_args(argv)
    if args.texts < BATCH:
        parser.error(f"--texts must be at least {BATCH}, a batch of messages understood together")
    figures = measure(args.model, args.texts)
    print(f"{'patch: what is measured (CPU ms, median)':58} {'Rasa':>8} {'patched':>8}")
    for name, pair in figures.items():
        print(f"{name:58} {pair['rasa']:8.2f} {pair['patched']:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
