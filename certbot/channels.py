"""Rasa's REST channel with its input checked before the bot sees it.

Same URL and protocol as the built-in `rest` channel (POST /webhooks/rest/webhook with
`{"sender": ..., "message": ...}`), so every REST client works unchanged; a malformed
request gets a 4xx JSON error instead of a server error.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

MAX_MESSAGE_CHARS = 10_000
MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 64 * 1024


def request_error(body: bytes) -> tuple[int, str] | None:
    """Status and reason why a webhook request body is unacceptable, or None if it is fine."""
    if len(body) > MAX_BODY_BYTES:
        return 413, f"request body larger than {MAX_BODY_BYTES} bytes"
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return 400, "request body is not valid JSON"
    if not isinstance(payload, dict):
        return 400, "request body must be a JSON object"
    sender, message = payload.get("sender"), payload.get("message")
    if sender is not None and (not isinstance(sender, str) or len(sender) > MAX_SENDER_CHARS):
        return 400, f"'sender' must be a string of at most {MAX_SENDER_CHARS} characters"
    if not isinstance(message, str):
        return 400, "'message' must be a string"
    if len(message) > MAX_MESSAGE_CHARS:
        return 413, f"'message' longer than {MAX_MESSAGE_CHARS} characters"
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return 400, "'metadata' must be a JSON object"
    return None


class ValidatedRestInput(RestInput):
    """The `rest` channel, rejecting malformed requests with a JSON error."""

    @classmethod
    def name(cls) -> str:
        """Keep the built-in channel's name, hence its URL."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """The built-in blueprint plus a check of every webhook request."""
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.endswith("/webhook"):
                return None
            error = request_error(request.body)
            if error is None:
                return None
            status, reason = error
            return response.json({"error": reason}, status=status)

        return blueprint
