"""A message the bot could not handle becomes a clear HTTP error, not an empty answer.

Rasa's REST channel logs any exception raised while handling a message and answers 200
with no replies, which a client cannot tell from a bot with nothing to say; and Rasa's
tracker store wrapper hides database errors altogether (certbot.stores.tracker_store notes them
here). The channels wrap the message handler with `remember_failures` and pass their
webhook responses through `apply_failure`: the tracker or lock store unreachable (database
down, disk full, Redis down, lock timeout) gives 503 with Retry-After, so the widget keeps
the message queued and sends it again; any other error gives 500. Nothing of the failed
message is kept, so the retry loses and duplicates nothing.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from redis.exceptions import RedisError
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

STORAGE_ERRORS = (SQLAlchemyError, RedisError, LockError, OSError)
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "the chat is temporarily unavailable: please send your message again shortly"
FAILED = "the bot could not handle this message"

# The failure of the message being handled in this request's task, if any.
_failure: ContextVar[Exception | None] = ContextVar("certbot_message_failure", default=None)

MessageHandler = Callable[[UserMessage], Awaitable[None]]


def note_failure(error: Exception) -> None:
    """Note an error for this request's response (the first one noted wins)."""
    if _failure.get() is None:
        _failure.set(error)


def remember_failures(on_new_message: MessageHandler) -> MessageHandler:
    """The handler, noting its exception for `apply_failure` before Rasa swallows it."""

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception as error:
            note_failure(error)
            raise

    return handle


def forget_failure() -> None:
    """Start a request with no failure noted (keep-alive requests share a task)."""
    _failure.set(None)


def take_failure() -> Exception | None:
    """The failure noted for this request's message, if any, and forget it."""
    error = _failure.get()
    _failure.set(None)
    return error


def apply_failure(reply: HTTPResponse) -> None:
    """Turn the reply into a JSON error if the message handler failed."""
    error = take_failure()
    if error is None:
        return
    if isinstance(error, STORAGE_ERRORS):
        reply.status = 503
        reply.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        reason = UNAVAILABLE
    else:
        reply.status = 500
        reason = FAILED
    reply.body = json.dumps({"error": reason}).encode()


def failure_summary(error: BaseException) -> str:
    """An exception's type and where it was raised, without its message or any values.

    Exception messages can quote what a visitor wrote (a database error lists the values
    of the statement that failed), so logs of failed messages carry only this.
    """
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    where = " <- ".join(
        f"{frame.filename}:{frame.lineno} {frame.name}" for frame in reversed(frames)
    )
    return f"{type(error).__module__}.{type(error).__qualname__} at {where or 'unknown'}"
