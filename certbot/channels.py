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


class RequestRejected(Exception):
    """A request the channel refuses, with the HTTP status and reason to send back."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        """Keep the status, the reason and any extra response headers."""
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}

    def response(self) -> HTTPResponse:
        """The JSON error response: `{"error": reason}`."""
        return response.json({"error": self.reason}, status=self.status, headers=self.headers)


def parse_webhook_body(body: bytes, max_message_chars: int = MAX_MESSAGE_CHARS) -> dict[str, Any]:
    """The webhook's JSON payload, or RequestRejected saying what is wrong with it."""
    if len(body) > MAX_BODY_BYTES:
        raise RequestRejected(413, f"request body larger than {MAX_BODY_BYTES} bytes")
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise RequestRejected(400, "request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise RequestRejected(400, "request body must be a JSON object")
    sender, message = payload.get("sender"), payload.get("message")
    if sender is not None and (not isinstance(sender, str) or len(sender) > MAX_SENDER_CHARS):
        raise RequestRejected(
            400, f"'sender' must be a string of at most {MAX_SENDER_CHARS} characters"
        )
    if not isinstance(message, str):
        raise RequestRejected(400, "'message' must be a string")
    if not message.strip():
        raise RequestRejected(400, "'message' is empty")
    if len(message) > max_message_chars:
        raise RequestRejected(413, f"'message' longer than {max_message_chars} characters")
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise RequestRejected(400, "'metadata' must be a JSON object")
    return payload


class ValidatedRestInput(RestInput):
    """The `rest` channel, rejecting malformed requests with a JSON error."""

    max_message_chars = MAX_MESSAGE_CHARS

    @classmethod
    def name(cls) -> str:
        """Keep the built-in channel's name, hence its URL."""
        return "rest"

    def check_webhook_request(self, request: Request) -> None:
        """Raise RequestRejected for an unacceptable webhook request."""
        parse_webhook_body(request.body, self.max_message_chars)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """The built-in blueprint plus a check of every webhook request."""
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                try:
                    self.check_webhook_request(request)
                except RequestRejected as rejected:
                    return rejected.response()
            return None

        return blueprint
