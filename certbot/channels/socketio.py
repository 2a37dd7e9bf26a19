"""Rasa's socket.io channel (rasa-webchat and other socket.io clients), guarded like the widget.

Same events and URL as Rasa's `socketio` channel (`session_request` -> `session_confirm`,
`user_uttered` -> `bot_uttered`, path /socket.io), with what Rasa 3.6.21 gets wrong or
leaves open fixed:
- replies reach the client with `session_persistence` on: Rasa calls python-socketio's
  `enter_room` without awaiting it (a coroutine since python-socketio 5.10), so the client
  never joined the room its replies are sent to;
- conversation ids are issued by the bot and signed (certbot.channels.conversation_ids): a client
  continues only a conversation whose id it was given, never one it names;
- browsers on other origins connect only from the sites listed in `allowed_origins` (the
  widget's list, shared with a YAML anchor in credentials.yml) or the bot's own origin;
- messages get the widget's checks (2,000 characters, metadata, typed commands), the rate
  limits (one budget per visitor and per address across all channels) and the admission
  queue; what is refused is answered with a `bot_uttered` message that says why and an
  `error` field, and is not stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from certbot.channels import conversation_ids
from certbot.channels.admission import admit
from certbot.channels.commands import command_problem
from certbot.channels.failures import (
    FAILED,
    STORAGE_ERRORS,
    UNAVAILABLE,
    failure_summary,
    forget_failure,
    remember_failures,
    take_failure,
)
from certbot.channels.rate_limit import shared_limiter
from certbot.channels.rest import (
    RequestRejected,
    client_ip,
    limit_settings,
    metadata_problem,
    origin_allowlist,
    origin_is_allowed,
)

logger = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 2_000


class GuardedSocketIOInput(SocketIOInput):
    """The `socketio` channel with delivered replies, issued ids, origins, limits and checks."""

    def __init__(
        self,
        allowed_origins: Iterable[str] = (),
        max_messages_per_visitor: int = 20,
        max_messages_per_ip: int = 60,
        window_seconds: float = 60,
        **settings: Any,
    ) -> None:
        """Rasa's settings (events, path, metadata key), the allowlist and the rate limits."""
        super().__init__(**settings, session_persistence=True)
        self.allowed_origins = origin_allowlist(allowed_origins)
        self.max_messages_per_visitor = max_messages_per_visitor
        self.max_messages_per_ip = max_messages_per_ip
        self.window_seconds = window_seconds
        self.secret = conversation_ids.secret_from_environment()
        self.app: Sanic | None = None

    @classmethod
    def name(cls) -> str:
        """Keep the built-in channel's name, hence its URL."""
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its section in credentials.yml."""
        credentials = credentials or {}
        return cls(
            allowed_origins=credentials.get("allowed_origins") or (),
            **limit_settings(credentials),
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            metadata_key=credentials.get("metadata_key", "metadata"),
        )

    def origin_allowed(self, origin: str | None, environ: dict[str, Any]) -> bool:
        """No Origin (not a browser), the bot's own origin, or an allowlisted one."""
        return origin_is_allowed(origin, environ.get("HTTP_HOST", ""), self.allowed_origins)

    def check_message(self, data: Any, session: dict[str, Any]) -> tuple[str, dict | None]:
        """The text and metadata of a `user_uttered` event, or RequestRejected."""
        if not isinstance(data, dict):
            raise RequestRejected(400, "a message must be an object with a 'message'")
        if data.get("session_id") != session.get("session_id"):
            raise RequestRejected(403, "send a session_request first, then use its session_id")
        message = data.get("message")
        if not isinstance(message, str) or not message.strip():
            raise RequestRejected(400, "'message' must be a non-empty string")
        if len(message) > MAX_MESSAGE_CHARS:
            raise RequestRejected(413, f"'message' longer than {MAX_MESSAGE_CHARS} characters")
        metadata = data.get(self.metadata_key) or None
        problem = command_problem(message) or metadata_problem(metadata)
        if problem:
            raise RequestRejected(400, problem)
        limits = self.app.ctx if self.app else None
        wait = None
        if limits is not None:
            ip = shared_limiter(limits, "ip", self.window_seconds)
            wait = ip.hit(session.get("ip", "unknown"), self.max_messages_per_ip)
            if wait is None:
                visitor = shared_limiter(limits, "visitor", self.window_seconds)
                wait = visitor.hit(session["session_id"], self.max_messages_per_visitor)
        if wait is not None:
            raise RequestRejected(429, f"too many messages: please wait {wait} seconds")
        return message, metadata

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and its event handlers, on Rasa's socket.io blueprint."""
        handle = remember_failures(admit(on_new_message))
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.origin_allowed)
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        async def keep_app(app: Sanic, _loop: object) -> None:
            self.app = app

        blueprint.listener(keep_app, "before_server_start")

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def refuse(sid: str, rejected: RequestRejected) -> None:
            answer = {"text": rejected.reason, "error": {"status": rejected.status}}
            await sio.emit(self.bot_message_evt, answer, room=sid, namespace=self.namespace)

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            request = environ.get("sanic.request")
            ip = client_ip(request) if request is not None else "unknown"
            await sio.save_session(sid, {"ip": ip}, namespace=self.namespace)
            return True

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            asked = data.get("session_id") if isinstance(data, dict) else None
            if conversation_ids.is_issued(self.secret, asked):
                session_id = str(asked)
            else:
                session_id = conversation_ids.issue(self.secret)
            session = await sio.get_session(sid, namespace=self.namespace)
            session["session_id"] = session_id
            await sio.save_session(sid, session, namespace=self.namespace)
            await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            session = await sio.get_session(sid, namespace=self.namespace)
            try:
                text, metadata = self.check_message(data, session)
            except RequestRejected as rejected:
                await refuse(sid, rejected)
                return
            forget_failure()
            message = UserMessage(
                text,
                SocketIOOutput(sio, self.bot_message_evt),
                session["session_id"],
                input_channel=self.name(),
                metadata=metadata,
            )
            try:
                await handle(message)
            except Exception as error:
                logger.error("A visitor message failed: %s", failure_summary(error))
            failure = take_failure()
            if isinstance(failure, STORAGE_ERRORS):
                await refuse(sid, RequestRejected(503, UNAVAILABLE))
            elif failure is not None:
                await refuse(sid, RequestRejected(500, FAILED))

        return blueprint
