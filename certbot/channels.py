"""Rasa's REST channel with its input checked before the bot sees it.

Same URL and protocol as the built-in `rest` channel (POST /webhooks/rest/webhook with
`{"sender": ..., "message": ...}`), so every REST client works unchanged; a malformed
request gets a 4xx JSON error instead of a server error. The channel is as public as the
widget's, so it has the same kind of rate limits (per visitor id and per IP address; 429 +
Retry-After), and it caps the size of every request to the bot's server (see `limit_requests`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from certbot import action_fallback, action_validation, graph_runner, nlu_cache
from certbot.admission import admit
from certbot.failures import apply_failure, forget_failure, remember_failures
from certbot.rate_limit import RateLimiter

MAX_MESSAGE_CHARS = 10_000
MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 64 * 1024
# Sanic's default is 100 MB, read into memory before any handler runs; socket.io's own
# limit per message is 1,000,000 bytes, which this keeps working.
MAX_REQUEST_BYTES = 1_000_000


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


def client_ip(request: Request) -> str:
    """The client's address: the proxy-reported one when Sanic is configured to trust it."""
    return request.remote_addr or request.ip or "unknown"


async def limit_requests(app: Sanic, _loop: object) -> None:
    """Listener: cap request bodies and answer Sanic's errors outside channels in JSON.

    Over the cap, Sanic answers 413 from the Content-Length, before reading the body.
    """
    app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_REQUEST_BYTES)
    app.config.FALLBACK_ERROR_FORMAT = "json"


class ValidatedRestInput(RestInput):
    """The `rest` channel, rejecting malformed requests with a JSON error and rate-limited."""

    max_message_chars = MAX_MESSAGE_CHARS

    def __init__(
        self,
        max_messages_per_visitor: int = 20,
        max_messages_per_ip: int = 60,
        window_seconds: float = 60,
    ) -> None:
        """Set the rate limits (messages per window of `window_seconds`)."""
        self.visitor_limiter = RateLimiter(max_messages_per_visitor, window_seconds)
        self.ip_limiter = RateLimiter(max_messages_per_ip, window_seconds)

    @classmethod
    def name(cls) -> str:
        """Keep the built-in channel's name, hence its URL."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its section in credentials.yml."""
        credentials = credentials or {}
        return cls(
            max_messages_per_visitor=int(credentials.get("max_messages_per_visitor", 20)),
            max_messages_per_ip=int(credentials.get("max_messages_per_ip", 60)),
            window_seconds=float(credentials.get("window_seconds", 60)),
        )

    def check_webhook_request(self, request: Request) -> None:
        """The per-IP limit, then the body, then the per-visitor limit: RequestRejected if not."""
        wait = self.ip_limiter.hit(client_ip(request))
        if wait is None:
            sender = parse_webhook_body(request.body, self.max_message_chars).get("sender")
            wait = self.visitor_limiter.hit(sender or "default")
        if wait is not None:
            raise RequestRejected(
                429,
                f"too many messages: please wait {wait} seconds",
                {"Retry-After": str(wait)},
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """The built-in blueprint plus request checks and limits, Sanic's errors as JSON.

        Also: failures as JSON errors (certbot.failures), the action server fallback
        (certbot.action_fallback), action responses checked by a prebuilt validator
        (certbot.action_validation), repeated texts parsed once (certbot.nlu_cache) and
        the model's graph run without dask (certbot.graph_runner).
        """
        action_fallback.install()
        action_validation.install()
        nlu_cache.install()
        graph_runner.install()
        blueprint = super().blueprint(remember_failures(admit(on_new_message)))
        blueprint.listener(limit_requests, "before_server_start")

        @blueprint.exception(SanicException)
        async def refuse(request: Request, error: SanicException) -> HTTPResponse:
            return RequestRejected(error.status_code, str(error)).response()

        @blueprint.middleware("request")
        async def check(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                forget_failure()
                try:
                    self.check_webhook_request(request)
                except RequestRejected as rejected:
                    return rejected.response()
            return None

        @blueprint.middleware("response")
        async def report_failure(request: Request, reply: HTTPResponse) -> None:
            if request.method == "POST" and request.path.endswith("/webhook"):
                apply_failure(reply)

        return blueprint
