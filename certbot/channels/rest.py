"""Rasa's REST channel with its input checked before the bot sees it.

Same URL and protocol as the built-in `rest` channel (POST /webhooks/rest/webhook with
`{"sender": ..., "message": ...}`), so every REST client works unchanged (a `sender` in the
form of the ids the bot issues to widget and socket.io visitors is refused); a malformed
request gets a 4xx JSON error instead of a server error. The channel is as public as the
widget's, so it has the same kind of rate limits (per visitor id and per IP address; 429 +
Retry-After). App-wide settings (the size cap of every request, slow clients) are the entry
point's: certbot/serve.py.

Every check runs inside the webhook's route handler, not in a middleware matching a path:
whatever spelling of the path reaches the handler (a trailing or double slash, a query
string), it reaches the checks first.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from certbot.channels.admission import admit
from certbot.channels.commands import command_problem
from certbot.channels.conversation_ids import looks_issued
from certbot.channels.failures import (
    MessageHandler,
    apply_failure,
    failure_summary,
    forget_failure,
    remember_failures,
)
from certbot.channels.rate_limit import shared_limiter

MAX_MESSAGE_CHARS = 10_000
MAX_SENDER_CHARS = 128
MAX_BODY_BYTES = 64 * 1024
# What a channel's client may send as `metadata`: the widget's rated answer (its text).
METADATA_STRINGS = {"feedback_for": 2_000}
ISSUED_ELSEWHERE = "this conversation id was issued by the bot to a widget or socket.io visitor"

logger = logging.getLogger(__name__)


class RequestRejected(Exception):
    """A request the channel refuses, with the HTTP status and reason to send back."""

    def __init__(
        self,
        status: int,
        reason: str,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        """Keep the status, the reason, any extra response headers and a code for clients."""
        super().__init__(reason)
        self.status, self.reason, self.headers, self.code = status, reason, headers or {}, code

    def response(self) -> HTTPResponse:
        """The JSON error response: `{"error": reason}`, with `"code"` when there is one."""
        body = {"error": self.reason, **({"code": self.code} if self.code else {})}
        return response.json(body, status=self.status, headers=self.headers)


def parse_webhook_body(
    body: bytes, max_message_chars: int = MAX_MESSAGE_CHARS, *, sender_required: bool = True
) -> dict[str, Any]:
    """The webhook's JSON payload, or RequestRejected saying what is wrong with it.

    Without `sender_required`, a payload may leave `sender` out (or null).
    """
    if len(body) > MAX_BODY_BYTES:
        raise RequestRejected(413, f"request body larger than {MAX_BODY_BYTES} bytes")
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestRejected(400, "request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise RequestRejected(400, "request body must be a JSON object")
    sender, message = payload.get("sender"), payload.get("message")
    named = isinstance(sender, str) and sender.strip() != "" and len(sender) <= MAX_SENDER_CHARS
    if not named and (sender is not None or sender_required):
        raise RequestRejected(
            400,
            f"'sender' (the conversation id) must be 1 to {MAX_SENDER_CHARS} characters",
        )
    if not isinstance(message, str):
        raise RequestRejected(400, "'message' must be a string")
    if not message.strip():
        raise RequestRejected(400, "'message' is empty")
    if len(message) > max_message_chars:
        raise RequestRejected(413, f"'message' longer than {max_message_chars} characters")
    problem = command_problem(message) or metadata_problem(payload.get("metadata"))
    if problem:
        raise RequestRejected(400, problem)
    return payload


def metadata_problem(metadata: Any) -> str | None:
    """Why `metadata` is not what the channels accept (`METADATA_STRINGS`), or None."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return "'metadata' must be a JSON object"
    for key, value in metadata.items():
        if key not in METADATA_STRINGS:
            return f"unknown 'metadata' key {key[:40]!r}"
        if not isinstance(value, str) or len(value) > METADATA_STRINGS[key]:
            return (
                f"'metadata.{key}' must be a string of at most {METADATA_STRINGS[key]} characters"
            )
    return None


def limit_settings(credentials: dict[str, Any]) -> dict[str, Any]:
    """The rate limits of a channel's section in credentials.yml, with their defaults."""
    return {
        "max_messages_per_visitor": int(credentials.get("max_messages_per_visitor", 20)),
        "max_messages_per_ip": int(credentials.get("max_messages_per_ip", 60)),
        "window_seconds": float(credentials.get("window_seconds", 60)),
    }


def origin_allowlist(origins: Iterable[str]) -> set[str]:
    """The `allowed_origins` of credentials.yml as `origin_is_allowed` compares them."""
    return {origin.rstrip("/") for origin in origins}


def origin_is_allowed(origin: str | None, host: str, allowed_origins: set[str]) -> bool:
    """No Origin (not a browser), the server's own origin (`host`), or an allowlisted one."""
    if not origin:
        return True
    return (
        "*" in allowed_origins
        or origin.rstrip("/") in allowed_origins
        or urlsplit(origin).netloc == host
    )


def client_ip(request: Request) -> str:
    """The client's address: the proxy-reported one when Sanic is configured to trust it."""
    return request.remote_addr or request.ip or "unknown"


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
        self.max_messages_per_visitor = max_messages_per_visitor
        self.max_messages_per_ip = max_messages_per_ip
        self.window_seconds = window_seconds

    @classmethod
    def name(cls) -> str:
        """Keep the built-in channel's name, hence its URL."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its section in credentials.yml."""
        return cls(**limit_settings(credentials or {}))

    def webhook_payload(self, body: bytes) -> dict[str, Any]:
        """The checked payload, its `sender` the conversation the message goes to.

        A REST client names its own visitors, but never with an id in the form the bot
        issues to widget and socket.io visitors (403): it cannot write into their
        conversations.
        """
        payload = parse_webhook_body(body, self.max_message_chars)
        if looks_issued(payload["sender"]):
            raise RequestRejected(403, ISSUED_ELSEWHERE)
        return payload

    def check_webhook_request(self, request: Request) -> dict[str, Any]:
        """The per-IP limit, then the body, then the per-visitor limit: the payload if all pass.

        The limits count every channel's messages: one budget per address and per visitor
        (conversation id) on the app, whichever channel a message arrives on.
        """
        limits = request.app.ctx
        ip_limiter = shared_limiter(limits, "ip", self.window_seconds)
        wait = ip_limiter.hit(client_ip(request), self.max_messages_per_ip)
        payload: dict[str, Any] = {}
        if wait is None:
            payload = self.webhook_payload(request.body)
            visitor_limiter = shared_limiter(limits, "visitor", self.window_seconds)
            wait = visitor_limiter.hit(payload["sender"], self.max_messages_per_visitor)
        if wait is not None:
            raise RequestRejected(
                429,
                f"too many messages: please wait {wait} seconds",
                {"Retry-After": str(wait)},
            )
        return payload

    def webhook_headers(
        self, request: Request, conversation_id: str | None = None
    ) -> dict[str, str]:
        """Extra headers of every webhook response, given its conversation once known.

        None here; CORS and the conversation id for the widget.
        """
        return {}

    def collector(self) -> CollectingOutputChannel:
        """Where a message's replies are collected, to be answered as the response's body."""
        return CollectingOutputChannel()

    async def receive(self, request: Request, handle: MessageHandler) -> HTTPResponse:
        """Check the request, hand the message to the bot, answer its replies (or an error)."""
        forget_failure()
        try:
            payload = self.check_webhook_request(request)
        except RequestRejected as rejected:
            rejected.headers.update(self.webhook_headers(request))
            return rejected.response()
        collector = self.collector()
        message = UserMessage(
            payload["message"],
            collector,
            payload["sender"],
            input_channel=self.name(),
            metadata=payload.get("metadata"),
        )
        try:
            await handle(message)
        except Exception as error:
            logger.error("A visitor message failed: %s", failure_summary(error))
        headers = self.webhook_headers(request, payload["sender"])
        reply = response.json(collector.messages, headers=headers)
        apply_failure(reply)
        return reply

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """Rasa's REST routes (`/` health, POST `/webhook`) with checks, limits, JSON errors.

        Also: failures as JSON errors (certbot.channels.failures) and messages admitted a
        few at a time (certbot.channels.admission).
        """
        handle = remember_failures(admit(on_new_message))
        module = inspect.getmodule(self)
        blueprint = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        @blueprint.exception(SanicException)
        async def refuse(request: Request, error: SanicException) -> HTTPResponse:
            return RequestRejected(error.status_code, str(error)).response()

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, handle)

        return blueprint
