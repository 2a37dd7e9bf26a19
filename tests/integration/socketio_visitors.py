"""socket.io visitors as rasa-webchat connects them, and async tests run in their own loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from concurrent.futures import ThreadPoolExecutor

import socketio

from tests.servers import ALLOWED_ORIGIN

QUIET_SECONDS = 1.5
REPLY_TIMEOUT = 60
# python-engineio's client can wait forever for its polling task when it disconnects (seen
# once under load, all three clients of a test hanging): the disconnect is bounded, and so
# is a whole test, so a client-side hang fails one test instead of stopping the suite.
DISCONNECT_SECONDS = 10
TEST_SECONDS = 300


def in_own_loop(test):
    """Run an async test in an event loop of its own thread: sync Playwright, used by the
    browser tests of the same session, marks the main thread's loop as running."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        bounded = asyncio.wait_for(test(*args, **kwargs), TEST_SECONDS)
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, bounded).result()

    return run


class Visitor:
    """A socket.io client as rasa-webchat uses the channel: one session, its replies."""

    def __init__(self, bot, origin: str | None = ALLOWED_ORIGIN) -> None:
        self.url, self.origin = bot.rasa.url, origin
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: asyncio.Queue = asyncio.Queue()
        self.confirmed: asyncio.Queue = asyncio.Queue()
        self.session_id: str | None = None
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.confirmed.put)

    async def start(self, session_id: str | None = None) -> str:
        """Connect and ask for a session (continuing `session_id` if given); its id."""
        headers = {"Origin": self.origin} if self.origin else {}
        await self.client.connect(self.url, headers=headers, transports=["polling"])
        await self.client.emit("session_request", {"session_id": session_id})
        self.session_id = await asyncio.wait_for(self.confirmed.get(), REPLY_TIMEOUT)
        return self.session_id

    async def say(self, text: str, **fields: object) -> list[dict]:
        """Send a message; the replies until the bot has been quiet for a moment."""
        data = {"message": text, "session_id": self.session_id, **fields}
        await self.client.emit("user_uttered", data)
        replies = [await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT)]
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                replies.append(await asyncio.wait_for(self.replies.get(), QUIET_SECONDS))
        return replies

    async def stop(self) -> None:
        """Disconnect, dropping the connection if the client's polling does not end."""
        try:
            await asyncio.wait_for(self.client.disconnect(), DISCONNECT_SECONDS)
        except asyncio.TimeoutError:
            await self.client.eio.disconnect(abort=True)


@contextlib.asynccontextmanager
async def visitor(bot, session_id: str | None = None, **options: object):
    person = Visitor(bot, **options)
    await person.start(session_id)
    try:
        yield person
    finally:
        await person.stop()
