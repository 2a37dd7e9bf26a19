"""The load generator: concurrent visitors, each sending its conversations turn by turn."""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

REQUEST_TIMEOUT_SECONDS = 30
OK, LOST = "ok", "lost"


@dataclass(frozen=True)
class Endpoint:
    """A bot's webhook and how its clients post to it."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    # The bot issues conversation ids (our widget channel): a conversation's first message
    # carries no sender, and the rest carry the id from its X-Conversation-Id header.
    issues_ids: bool = False


# A conversation: the visitor's messages in order, drawn by each visitor's own generator.
ConversationSource = Callable[[random.Random], list[str]]


@dataclass
class LoadResult:
    """What happened to every message of one load run."""

    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    texts: Counter = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        """Throughput (answered messages per second), latency percentiles, errors, lost.

        Also the share of messages whose text was sent before in the run: the bot's NLU
        cache answers those from memory.
        """
        answered = self.outcomes[OK]
        sent = sum(self.texts.values())
        errors = {kind: n for kind, n in self.outcomes.items() if kind not in (OK, LOST)}
        return {
            "messages": sum(self.outcomes.values()),
            "answered": answered,
            "seconds": round(self.seconds, 2),
            "throughput": round(answered / self.seconds, 2) if self.seconds else 0.0,
            "p50_ms": percentile(self.latencies_ms, 50),
            "p95_ms": percentile(self.latencies_ms, 95),
            "p99_ms": percentile(self.latencies_ms, 99),
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else 0.0,
            "errors": sum(errors.values()),
            "error_kinds": errors,
            "lost": self.outcomes[LOST],
            "repeated_text_pct": round(100 * (sent - len(self.texts)) / sent, 1) if sent else 0.0,
        }


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)


async def send(
    session: aiohttp.ClientSession, endpoint: Endpoint, sender: str | None, text: str
) -> tuple[str, str | None]:
    """Post one message; its outcome and the conversation id to go on with.

    The outcome is ok, lost (answered with no reply) or an error kind. Without a sender the
    bot issues the id (`X-Conversation-Id`).
    """
    body = json.dumps({"message": text} | ({"sender": sender} if sender is not None else {}))
    try:
        async with session.post(endpoint.url, data=body, headers=endpoint.headers) as response:
            payload = await response.read()
            sender = response.headers.get("X-Conversation-Id", sender)
            if response.status != 200:
                return f"http_{response.status}", sender
            return (OK if json.loads(payload) else LOST), sender
    except asyncio.TimeoutError:
        return "timeout", sender
    except (aiohttp.ClientError, json.JSONDecodeError) as error:
        return type(error).__name__, sender


async def visitor(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    conversations: ConversationSource,
    name: str,
    deadline: float,
    result: LoadResult,
) -> None:
    """Hold conversations (a new sender id each) back to back until the deadline."""
    rng = random.Random(name)
    number = 0
    while time.monotonic() < deadline:
        number += 1
        sender = None if endpoint.issues_ids else f"{name}-{number}"
        for text in conversations(rng):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            result.texts[text] += 1
            outcome, sender = await send(session, endpoint, sender, text)
            result.outcomes[outcome] += 1
            if outcome == OK:
                result.latencies_ms.append((time.perf_counter() - started) * 1000)


async def run_load(
    endpoint: Endpoint,
    conversations: ConversationSource,
    visitors: int,
    seconds: float,
    label: str,
) -> LoadResult:
    """`visitors` concurrent visitors for `seconds`, no think time."""
    result = LoadResult()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(
                visitor(session, endpoint, conversations, f"{label}-{i}", deadline, result)
                for i in range(visitors)
            )
        )
        result.seconds = time.monotonic() - started
    return result


async def first_reply(
    endpoint: Endpoint, text: str, alive: Callable[[], bool], give_up_after: float
) -> None:
    """Wait until the bot answers `text` with a reply.

    Fail when `alive()` turns false or after `give_up_after` seconds.
    """
    deadline = time.monotonic() + give_up_after
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while time.monotonic() < deadline:
            if not alive():
                raise RuntimeError(f"the server behind {endpoint.url} exited")
            sender = None if endpoint.issues_ids else "bench-ready"
            if (await send(session, endpoint, sender, text))[0] == OK:
                return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{endpoint.url} gave no reply within {give_up_after} s")
