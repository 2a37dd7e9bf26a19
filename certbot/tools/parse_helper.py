"""A second process that parses part of an evaluation's messages, on the machine's other core.

Parsing the evaluation's 6,114 messages is mostly Python (spaCy, scikit-learn's vectorizers,
SciPy's sparse matrices) holding the GIL: one process keeps one of the two cores busy for
about 15 s of every retraining's evaluation. `parse_shared` cuts the texts into chunks and
offers all of them to a helper process, which loads the same model and parses the chunks
from the front, while the evaluating process parses from the back every chunk the helper
has not started; they meet wherever their speeds take them, so a helper still warming up
simply takes fewer chunks. When the helper fails, its chunks are parsed here: the report
never depends on it. A warm helper (the console's retraining starts one while the model
trains) saves about a third of the evaluation.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Texts per chunk: small enough to balance the two processes, large enough to batch well.
CHUNK = 256

# The helper process's loaded models, by path (a retraining evaluates one or two).
_agents: dict[str, Any] = {}


def _start(vectors: str | None) -> None:
    """In the helper: import Rasa and load the sentence encoder (and its vector store)."""
    from certbot.nlu.sentence_encoder import shared_encoder
    from certbot.tools.evaluate import warm_up

    warm_up()
    if vectors:
        shared_encoder().keep_vectors(Path(vectors))


def _ready() -> bool:
    """In the helper: nothing; submitted at once so that the process starts warming up."""
    return True


def _parse(model: str, texts: list[str]) -> list[dict[str, Any]]:
    """In the helper: the parses of `texts` by `model` (loaded once)."""
    from certbot.tools.evaluate import load_agent, parse_all

    if model not in _agents:
        _agents.clear()
        _agents[model] = load_agent(Path(model))
    return parse_all(_agents[model], texts)


class ParseHelper:
    """A helper process (started at once, warming up in the background); closed after use."""

    def __init__(self, vectors: Path | None) -> None:
        """Start the helper; `vectors` is the sentence vector store it shares, if any."""
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(str(vectors) if vectors else None,),
        )
        # Done once the helper has started and warmed up.
        self.ready: Future = self._pool.submit(_ready)

    def offer(self, model: Path, chunks: list[list[str]]) -> list[Future]:
        """Queue every chunk for the helper, in order; each future gives a chunk's parses."""
        return [self._pool.submit(_parse, str(model), chunk) for chunk in chunks]

    def close(self) -> None:
        """Stop the helper without waiting for work it has not started."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> ParseHelper:
        """The started helper."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the helper."""
        self.close()


def parse_shared(
    helper: ParseHelper,
    model: Path,
    texts: list[str],
    parse_here: Callable[[list[str]], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Every text's parse, in order, the chunks shared between `helper` and `parse_here`."""
    chunks = [texts[start : start + CHUNK] for start in range(0, len(texts), CHUNK)]
    try:
        futures = helper.offer(model, chunks)
    except (BrokenProcessPool, RuntimeError) as error:  # broken, or already shut down
        logger.warning("no parse helper (%r): parsing every text here", error)
        return parse_here(texts)
    parses: list[list[dict[str, Any]] | None] = [None] * len(chunks)
    for index in reversed(range(len(chunks))):
        if not futures[index].cancel():
            break  # the helper has this chunk: it has (or will have) the earlier ones too
        parses[index] = parse_here(chunks[index])
    for index, future in enumerate(futures):
        if parses[index] is not None:
            continue
        try:
            parses[index] = future.result()
        except Exception as error:  # the helper died or failed: parse the chunk here
            logger.warning("the parse helper failed (%r): parsing its chunk here", error)
            parses[index] = parse_here(chunks[index])
    return [parse for chunk in parses for parse in chunk or []]
