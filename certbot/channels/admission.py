"""Visitor messages handled a few at a time, in the order they arrive.

The bot's work on a message is mostly CPU in one event loop, interrupted where it waits
(the action server, the lock store). With every arriving message admitted at once, a
message that waits goes to the back of the line behind all the others each time, so
messages that call the action server (a new conversation, the contact form) took many
times longer than the rest under load. `admit` lets at most `MAX_CONCURRENT_MESSAGES`
(default 4) messages be in progress; the others wait their turn in arrival order. The
CPU stays busy while one waits for the action server, and a message, once started, is
finished soon after. Waiting messages are understood together with the next one that
reaches the NLU (certbot/patches/parse_ahead.py).
"""

from __future__ import annotations

import asyncio

from rasa.core.channels.channel import UserMessage

from certbot.channels.failures import MessageHandler
from certbot.environment import count_setting
from certbot.patches.parse_ahead import waiting

DEFAULT_LIMIT = 4
LIMIT_VARIABLE = "MAX_CONCURRENT_MESSAGES"

# One semaphore per event loop and limit: every channel of the bot shares it.
_turns: dict[tuple[asyncio.AbstractEventLoop, int], asyncio.Semaphore] = {}


def limit_from_environment() -> int:
    """`MAX_CONCURRENT_MESSAGES` (ValueError unless a whole number of at least 1)."""
    return count_setting(LIMIT_VARIABLE, DEFAULT_LIMIT, least=1)


def admit(on_new_message: MessageHandler, limit: int | None = None) -> MessageHandler:
    """The handler, run for at most `limit` messages at once across every channel."""
    limit = limit_from_environment() if limit is None else limit

    async def handle(message: UserMessage) -> None:
        key = (asyncio.get_running_loop(), limit)
        turn = _turns.get(key) or _turns.setdefault(key, asyncio.Semaphore(limit))
        with waiting(
            message
        ):  # may be understood ahead of its turn (certbot/patches/parse_ahead.py)
            async with turn:
                await on_new_message(message)

    return handle
